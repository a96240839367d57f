"""`python -m indexer` is `faq-index`."""

from indexer.cli import main

main()
