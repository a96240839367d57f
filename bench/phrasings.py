"""What alternate phrasings cost the service: the same FAQ served with and without them.

    python -m bench.phrasings --model var/model \\
        --data ../shared/data/cloud_faq/cloud_faq_dataset.jsonl --per-entry 10

1. Two data files of the same entries: the FAQ as it is, and each entry with `--per-entry`
   phrasings of its question. The phrasings are made from the question by rule (a word left out,
   two words swapped, a greeting or a please around it), deterministic, not written by people:
   this measures the search over ten times the question vectors, not their quality.
2. `faq-index` of each into a fresh embedded store (its JSON summary: texts encoded per second).
3. Alternating rounds of wrk against `faq-serve` on each store (bench/ab.py), at `--clients`.
4. How soon a phrasing added to a serving FAQ changes `/ask`: for `--probes` entries, the time
   from sending `POST /answers/{id}/questions` to an `/ask` of that phrasing returning it matched.
Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.ab import Load, alternate, question_file
from bench.run import REPO, Server, log, run_json

GREETINGS = ("hi, ", "hello, ", "quick question: ", "excuse me, ", "")
CLOSINGS = (" please", " thanks", "?", " asap", "")


def phrasings(question: str, n: int, rng: random.Random) -> list[str]:
    """`n` distinct phrasings of `question` by rule (none of them the question itself)."""
    words = question.rstrip("?").split()
    made: dict[str, None] = {}
    for _ in range(20 * n):
        altered = list(words)
        if len(altered) > 3 and rng.random() < 0.6:
            del altered[rng.randrange(len(altered))]
        if len(altered) > 2 and rng.random() < 0.5:
            i = rng.randrange(len(altered) - 1)
            altered[i], altered[i + 1] = altered[i + 1], altered[i]
        text = rng.choice(GREETINGS) + " ".join(altered) + rng.choice(CLOSINGS)
        if text.casefold() != question.casefold():
            made.setdefault(text, None)
        if len(made) == n:
            break
    return list(made)


def with_phrasings(data: Path, out: Path, per_entry: int, seed: int = 7) -> int:
    """`data` written to `out` with `per_entry` phrasings on every entry that has a question;
    returns how many phrasings."""
    rng = random.Random(seed)
    lines, total = [], 0
    for raw in data.read_text().splitlines():
        if not raw.strip():
            continue
        row = json.loads(raw)
        question = row.pop("question", None)
        if question:
            extra = phrasings(question, per_entry, rng)
            row["questions"] = [question, *extra]
            total += len(extra)
        lines.append(json.dumps(row, ensure_ascii=False) + "\n")
    out.write_text("".join(lines))
    return total


def _env(model: Path, store: Path) -> dict[str, str]:
    """The indexer's and the service's settings: this servable on this embedded store, fp32."""
    return {
        **os.environ,
        "FAQ_MODEL_PATH": str(model.resolve()),
        "FAQ_STORE_PATH": str(store),
        "FAQ_QUANTIZE": "none",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }


def index(data: Path, store: Path, model: Path) -> dict[str, Any]:
    """`faq-index` of `data` into `store`; a store indexed by an earlier run in the same --work
    is taken as it is, with that run's summary."""
    summary = store.with_suffix(".json")
    if store.is_dir() and summary.is_file():
        log(f"{store} indexed already: kept")
        found: dict[str, Any] = json.loads(summary.read_text())
        return found
    command = [sys.executable, "-m", "indexer", "--data", str(data), "--quiet"]
    result = run_json(command, _env(model, store))
    summary.write_text(json.dumps(result))
    return result


def added_to_answered(store: Path, model: Path, probes: int, work: Path) -> dict[str, Any]:
    """Seconds from sending a new phrasing to an /ask of it returning it matched."""
    copy = work / "serving" / "probe"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(store, copy)
    env = _env(model, copy)
    port = 18900
    command = [sys.executable, "-m", "service", "--port", str(port), "--log-level", "warning"]
    seconds, matched = [], 0
    with (
        Server(command, env, port, cwd=REPO) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        entries = client.get("/answers", params={"limit": probes}).json()["entries"]
        for n, entry in enumerate(entries):
            phrasing = f"probe {n}: is there anything new about {entry['question']}"
            started = time.perf_counter()
            added = client.post(f"/answers/{entry['id']}/questions", json={"questions": [phrasing]})
            added.raise_for_status()
            first = client.post("/ask", json={"question": phrasing}).json()["answers"][0]
            seconds.append(time.perf_counter() - started)
            matched += first["id"] == entry["id"] and first["matched_text"] == phrasing
    return {
        "probes": len(seconds),
        "matched_at_once": matched,
        "median_s": round(statistics.median(seconds), 4),
        "max_s": round(max(seconds), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.phrasings", description=__doc__)
    parser.add_argument("--model", type=Path, required=True, help="servable directory")
    parser.add_argument("--data", type=Path, required=True, help="the FAQ (JSON Lines)")
    parser.add_argument("--per-entry", type=int, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--probes", type=int, default=20)
    parser.add_argument("--work", type=Path, help="keep the stores here (default: a temp dir)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="faq-phrasings-"))
    work.mkdir(parents=True, exist_ok=True)
    plain, phrased = work / "indexed-plain", work / "indexed-phrasings"
    data = work / "with-phrasings.jsonl"
    report: dict[str, Any] = {"phrasings": with_phrasings(args.data, data, args.per_entry)}
    log(f"1/3 indexing without and with {report['phrasings']} phrasings")
    report["index"] = {
        "plain": index(args.data, plain, args.model),
        "phrasings": index(data, phrased, args.model),
    }
    log("2/3 alternating rounds under load")
    load = Load(
        args.model,
        question_file(args.data, work / "questions.txt"),
        clients=args.clients,
        seconds=args.seconds,
    )
    report["load"] = alternate(
        {"plain": (REPO, plain), "phrasings": (REPO, phrased)}, load, args.rounds, work
    )
    log("3/3 a phrasing added while serving")
    report["added_to_answered"] = added_to_answered(phrased, args.model, args.probes, work)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
