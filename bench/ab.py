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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.run import Server, wrk
from faq_core.sources import read_entries

WARM_UP_S = 5


def _python(checkout: Path) -> str:
    own = checkout / ".venv" / "bin" / "python"
    return str(own) if own.exists() else sys.executable


def _serve_and_load(
    name: str, checkout: Path, store: Path, port: int, load: Load, work: Path
) -> dict[str, Any]:
    """`faq-serve` from `checkout` on a fresh copy of `store`, warmed up, then measured."""
    copy = work / "serving" / name
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(store, copy)
    env = {
        **os.environ,
        "FAQ_MODEL_PATH": str(load.model.resolve()),
        "FAQ_STORE_PATH": str(copy),
        "FAQ_QUANTIZE": load.quantize,
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    command = [_python(checkout), "-m", "service", "--port", str(port), "--log-level", "warning"]
    with Server(command, env, port, cwd=checkout) as server:
        wrk(server.url, load.clients, WARM_UP_S, load.question_file)
        return wrk(server.url, load.clients, load.seconds, load.question_file)


@dataclass(frozen=True)
class Load:
    """What every round serves and asks: the servable, its encoder path, the load."""

    model: Path
    question_file: Path  # one question a line (bench/ask.lua)
    quantize: str = "none"
    clients: int = 32
    seconds: int = 20


def alternate(
    setups: dict[str, tuple[Path, Path]], load: Load, rounds: int, work: Path
) -> dict[str, Any]:
    """Each setup (name: (checkout, store)) served and measured once a round, the order
    alternating from round to round; per setup, requests/s and p99 of every round, their means,
    and each setup's mean against the first's."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in setups}
    for round_no in range(rounds):
        order = list(setups) if round_no % 2 == 0 else list(reversed(setups))
        for i, name in enumerate(order):
            checkout, store = setups[name]
            port = 18000 + 10 * round_no + i
            result = _serve_and_load(name, checkout, store, port, load, work)
            runs[name].append(result)
            print(
                f"round {round_no + 1} {name}: {result['rps']:.1f} req/s, "
                f"p99 {result['p99_ms']:.0f} ms, 5xx {result['5xx']}, "
                f"timeouts {result['timeouts']}",
                file=sys.stderr,
                flush=True,
            )
    base = statistics.mean(r["rps"] for r in runs[next(iter(setups))])
    return {
        "clients": load.clients,
        "seconds": load.seconds,
        "quantize": load.quantize,
        "setups": {
            name: {
                "checkout": str(setups[name][0]),
                "store": str(setups[name][1]),
                "requests_per_s": [round(r["rps"], 1) for r in rs],
                "p99_ms": [round(r["p99_ms"]) for r in rs],
                "mean_requests_per_s": round(statistics.mean(r["rps"] for r in rs), 1),
                "mean_p99_ms": round(statistics.mean(r["p99_ms"] for r in rs)),
                "against_first": round(statistics.mean(r["rps"] for r in rs) / base, 3),
            }
            for name, rs in runs.items()
        },
    }


def question_file(data: Path, out: Path) -> Path:
    """The questions of a data file, one a line, as bench/ask.lua reads them."""
    questions = [e.question or "" for e in read_entries(data)]
    out.write_text("".join(q.replace("\n", " ") + "\n" for q in questions))
    return out


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
    setups = {}
    for item in args.checkout:
        name, _, directory = item.partition("=")
        if not name or not directory:
            parser.error(f"--checkout takes NAME=DIR, not {item!r}")
        setups[name] = (Path(directory).resolve(), args.store)
    if len(setups) < 2:
        parser.error("give at least two --checkout")
    work = Path(tempfile.mkdtemp(prefix="faq-ab-"))
    try:
        load = Load(
            args.model,
            question_file(args.questions, work / "questions.txt"),
            args.quantize,
            args.clients,
            args.seconds,
        )
        summary = alternate(setups, load, args.rounds, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
