"""Console script `faq-store`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from faq_core.errors import FaqError
from faq_core.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="faq-store",
        description="Export, restore and copy everything the deployment holds that cannot be "
        "rebuilt: the entries (those added at runtime too) with their phrasings and vectors, "
        "and the feedback, unanswered, reviews and rejections logs. Prints a JSON summary.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser(
        "export",
        help="write the configured store (FAQ_QDRANT_URL, else FAQ_STORE_PATH) to one file",
        description="Write the live collection version and its record logs to one JSON Lines "
        "file (gzip when it ends in .gz), renamed into place once complete.",
    )
    export.add_argument("--out", type=Path, required=True, help="the file to write")
    export.add_argument(
        "--url",
        help="export through the running service at this URL (GET /export, with FAQ_API_KEY): "
        "the embedded store is held by the service while it runs",
    )
    export.add_argument(
        "--no-vectors",
        action="store_true",
        help="leave the vectors out (a file ~10x smaller; a restore then encodes every text)",
    )
    restore = commands.add_parser(
        "restore",
        help="load an export into the configured store, which must be empty",
        description="Check the whole export, then load it into the configured store as a new "
        "collection version that goes live once complete. Vectors are copied when the servable "
        "at FAQ_MODEL_PATH made them, else encoded again by it. An interrupted restore resumes "
        "when run again with the same file.",
    )
    restore.add_argument("file", type=Path, help="a file faq-store export wrote")
    restore.add_argument(
        "--replace",
        action="store_true",
        help="replace what the store holds (its entries and logs) instead of refusing",
    )
    copy = commands.add_parser(
        "copy",
        help="copy the configured store into a Qdrant server (from a laptop to a server)",
        description="Export the configured store (the embedded one, with faq-serve stopped) "
        "and restore it into the Qdrant server at --to, with no file between; the server's "
        "key is FAQ_QDRANT_API_KEY. Then run faq-serve with FAQ_QDRANT_URL set to it.",
    )
    copy.add_argument("--to", required=True, metavar="URL", help="the Qdrant server")
    copy.add_argument(
        "--replace", action="store_true", help="replace what the server's collection holds"
    )
    parser.add_argument("--verbose", action="store_true", help="log progress")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    settings = Settings()
    # Imported here: an argument error loads neither store's client.
    from backup.run import copy_to, export_file, export_url, restore_file

    try:
        if args.command == "export":
            if not args.out.parent.is_dir():
                parser.error(f"--out {args.out}: the folder {args.out.parent} does not exist")
            summary = (
                export_url(settings, args.url, args.out, vectors=not args.no_vectors)
                if args.url
                else export_file(settings, args.out, vectors=not args.no_vectors)
            ).as_dict()
        elif args.command == "restore":
            if not args.file.is_file():
                parser.error(f"{args.file}: no such file")
            summary = restore_file(settings, args.file, replace_held=args.replace).as_dict()
        else:
            if not args.to.startswith(("http://", "https://")):
                parser.error(f"--to {args.to!r}: a Qdrant server's URL, http(s)://HOST:PORT")
            if settings.qdrant_url == args.to:
                parser.error(f"--to {args.to}: that is the store to copy (FAQ_QDRANT_URL)")
            summary = copy_to(settings, args.to, replace_held=args.replace).as_dict()
    except FaqError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(json.dumps(summary, indent=2))
