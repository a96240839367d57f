"""`python -m feedback` is `faq-feedback`."""

from feedback.cli import main

main()
