"""`python -m service` is `faq-serve`."""

from service.cli import main

main()
