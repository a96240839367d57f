"""Console script `faq-feedback`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from faq_core.errors import FaqError
from faq_core.records import parse_time
from faq_core.settings import Settings
from feedback.export import ExportSummary, export_feedback
from feedback.unanswered import UnansweredSummary, export_unanswered


def _aware_time(text: str) -> datetime:
    """An ISO 8601 time; UTC when it names no zone."""
    try:
        return parse_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="faq-feedback",
        description="The chatbot's feedback on answers (POST /feedback), and the questions the "
        "FAQ could not answer.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser(
        "export",
        help="write the accepted (question, answer) pairs of the collection as training data",
        description="Write the accepted (question, answer) pairs of the configured collection "
        "(FAQ_COLLECTION) as JSON Lines for faq-train --feedback, and print counts as JSON.",
    )
    export.add_argument("--out", type=Path, required=True, help="JSON Lines file to write")
    export.add_argument(
        "--phrasings",
        action="store_true",
        help="also the phrasings added to entries (accepted suggestions, POST "
        "/answers/{id}/questions); they answer without retraining, and retraining on them "
        "measured no better (docs/quality.md)",
    )
    unanswered = commands.add_parser(
        "unanswered",
        help="write the questions the FAQ could not answer, grouped, as JSON Lines",
        description="Write the unanswered questions of the configured collection "
        "(FAQ_COLLECTION), near-duplicates grouped, as GET /unanswered gives them (one group a "
        "line, open groups first), and print counts as JSON.",
    )
    unanswered.add_argument("--out", type=Path, required=True, help="JSON Lines file to write")
    unanswered.add_argument(
        "--since", type=_aware_time, help="only questions asked since then (ISO 8601)"
    )
    unanswered.add_argument("--source", help="only questions about this source")
    args = parser.parse_args(argv)
    try:
        if args.command == "unanswered":
            summary: ExportSummary | UnansweredSummary = export_unanswered(
                Settings(), args.out, since=args.since, source=args.source
            )
        else:
            summary = export_feedback(Settings(), args.out, phrasings=args.phrasings)
    except FaqError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(json.dumps(summary.as_dict(), indent=2))
