"""Draw servables side by side from `training.phrasings_eval` reports (its JSON output), e.g.
what a small FAQ should train on (docs/quality.md, "A small FAQ of your own"):

    python -m training.compare_servables --plot docs/small-faq.png \
        "StackFAQ/cloud FAQ's=cloud.json" "StackFAQ/untrained=untrained.json" ...

Each report is FAQ/LABEL=FILE: a panel per FAQ, a group of bars per label, in the order given.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from training.plots import plot_servables_compared


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.compare_servables", description=__doc__
    )
    parser.add_argument("--plot", type=Path, required=True, help="PNG to write")
    parser.add_argument("reports", nargs="+", metavar="FAQ/LABEL=FILE")
    args = parser.parse_args(argv)
    reports: dict[str, dict[str, dict[str, Any]]] = {}
    for item in args.reports:
        name, sep, path = item.partition("=")
        faq, slash, label = name.partition("/")
        if not (sep and slash and faq and label):
            parser.error(f"{item!r} is not FAQ/LABEL=FILE")
        try:
            report = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            parser.error(f"{path}: {exc}")
        reports.setdefault(faq, {})[label] = report
    plot_servables_compared(reports, args.plot)
    print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
