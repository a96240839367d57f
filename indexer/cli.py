"""Console script `faq-index`."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from faq_core.errors import FaqError
from faq_core.settings import Settings
from faq_core.sources import FORMATS, location
from indexer.run import run_index


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="faq-index",
        description="Encode every entry of a data file, FAQ page or URL and upsert it.",
    )
    parser.add_argument(
        "--data",
        type=location,
        required=True,
        help=f"FAQ entries: {FORMATS}; the format is told from the name and the content",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        summary = run_index(args.data, Settings(), progress=not args.quiet)
    except FaqError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(json.dumps(summary.as_dict(), indent=2))
