"""Two checkouts of the service against each other, in alternating rounds: what a change on the
request path costs at a given load.

    python -m bench.ab --checkout before=../before --checkout after=. \\
        --model var/model --store var/store --questions ../shared/data/cloud_faq/val.jsonl

Each round starts `faq-serve` from each checkout in turn (its own Python environment, `.venv/`
in the checkout, or the one running this), on a fresh copy of `--store`, warms it with a few
seconds of wrk, then measures `--seconds` of wrk at `--clients` (bench/ask.lua). The order
alternates from round to round, so that a machine that drifts during the run favours neither.
The encoder path is pinned (`--quantize`, default `none`) so that both run the same kernels.
Prints each round as it ends, then JSON: per checkout, requests/s and p99 of every round, their
means, and each checkout's mean against the first's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.run import Server, wrk
from faq_core.entries import read_entries

WARM_UP_S = 5


def _python(checkout: Path) -> str:
    own = checkout / ".venv" / "bin" / "python"
    return str(own) if own.exists() else sys.executable


def _serve_and_load(
    name: str, checkout: Path, store: Path, port: int, args: argparse.Namespace, work: Path
) -> dict[str, Any]:
    """`faq-serve` from `checkout` on a fresh copy of `store`, warmed up, then measured."""
    copy = work / f"store-{name}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(store, copy)
    env = {
        **os.environ,
        "FAQ_MODEL_PATH": str(args.model.resolve()),
        "FAQ_STORE_PATH": str(copy),
        "FAQ_QUANTIZE": args.quantize,
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    command = [_python(checkout), "-m", "service", "--port", str(port), "--log-level", "warning"]
    with Server(command, env, port, cwd=checkout) as server:
        wrk(server.url, args.clients, WARM_UP_S, args.question_file)
        return wrk(server.url, args.clients, args.seconds, args.question_file)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--checkout",
        action="append",
        required=True,
        metavar="NAME=DIR",
        help="a checkout of the project to serve from (give two or more; the first is the base)",
    )
    parser.add_argument("--model", type=Path, required=True, help="servable directory")
    parser.add_argument("--store", type=Path, required=True, help="an indexed embedded store")
    parser.add_argument("--questions", type=Path, required=True, help="JSON Lines with questions")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=20, help="each measured wrk run")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--quantize", default="none", help="FAQ_QUANTIZE for every checkout")
    args = parser.parse_args()
    checkouts = {}
    for item in args.checkout:
        name, _, directory = item.partition("=")
        if not name or not directory:
            parser.error(f"--checkout takes NAME=DIR, not {item!r}")
        checkouts[name] = Path(directory).resolve()
    if len(checkouts) < 2:
        parser.error("give at least two --checkout")

    work = Path(tempfile.mkdtemp(prefix="faq-ab-"))
    args.question_file = work / "questions.txt"
    questions = [e.question or "" for e in read_entries(args.questions)]
    args.question_file.write_text("".join(q.replace("\n", " ") + "\n" for q in questions))
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in checkouts}
    try:
        for round_no in range(args.rounds):
            order = list(checkouts) if round_no % 2 == 0 else list(reversed(checkouts))
            for i, name in enumerate(order):
                port = 18000 + 10 * round_no + i
                result = _serve_and_load(name, checkouts[name], args.store, port, args, work)
                runs[name].append(result)
                print(
                    f"round {round_no + 1} {name}: {result['rps']:.1f} req/s, "
                    f"p99 {result['p99_ms']:.0f} ms, 5xx {result['5xx']}, "
                    f"timeouts {result['timeouts']}",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = statistics.mean(r["rps"] for r in runs[next(iter(checkouts))])
    summary = {
        "clients": args.clients,
        "seconds": args.seconds,
        "quantize": args.quantize,
        "checkouts": {
            name: {
                "dir": str(checkouts[name]),
                "requests_per_s": [round(r["rps"], 1) for r in rs],
                "p99_ms": [round(r["p99_ms"]) for r in rs],
                "mean_requests_per_s": round(statistics.mean(r["rps"] for r in rs), 1),
                "against_first": round(statistics.mean(r["rps"] for r in rs) / base, 3),
            }
            for name, rs in runs.items()
        },
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
