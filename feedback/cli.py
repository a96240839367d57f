"""Console script `faq-feedback`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from faq_core.errors import FaqError
from faq_core.settings import Settings
from feedback.export import export_feedback


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="faq-feedback", description="The chatbot's feedback on answers (POST /feedback)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser(
        "export",
        help="write the accepted (question, answer) pairs of the collection as training data",
        description="Write the accepted (question, answer) pairs of the configured collection "
        "(FAQ_COLLECTION) as JSON Lines for faq-train --feedback, and print counts as JSON.",
    )
    export.add_argument("--out", type=Path, required=True, help="JSON Lines file to write")
    args = parser.parse_args(argv)
    try:
        summary = export_feedback(Settings(), args.out)
    except FaqError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(json.dumps(summary.as_dict(), indent=2))
