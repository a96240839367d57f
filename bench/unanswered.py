"""`GET /unanswered` on a full log: how long the grouping takes, and what it does to `/ask`.

    python -m bench.unanswered --model var/model --store var/store \\
        --questions ../shared/data/cloud_faq/cloud_faq_dataset.jsonl [--checkout DIR]

The log is filled to `--records` (default 20,000, the default size bound) with the questions of
`--questions`, each also reworded (" please", " thanks") until the bound is reached: distinct
texts, a third to a half of them rewordings of another. Each record keeps its question's vector,
as the service writes them, so the grouping encodes nothing. `faq-serve` from `--checkout` (its
own `.venv/` or the Python running this) serves a fresh copy of `--store` with that log beside
it. Each round times one `GET /unanswered?limit=20` while a client asks a question every 50 ms;
prints each round's latency of the GET and the worst `/ask` latency meanwhile, then JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.ab import _python
from bench.run import Server
from faq_core.servable import load_servable
from faq_core.settings import Settings
from faq_core.sources import read_entries
from faq_core.store.edge import EdgeBackend
from faq_core.unanswered import UNANSWERED_LOG, Candidate, UnansweredQuestion, pack_vector

REWORDINGS = ("", " please", " thanks")
ASK_EVERY_S = 0.05


def _records(model: Path, questions_file: Path, count: int) -> list[UnansweredQuestion]:
    servable = load_servable(model, "cpu")
    questions = list(dict.fromkeys(e.question for e in read_entries(questions_file) if e.question))
    vectors = servable.encode(questions, progress="questions")
    records = [
        UnansweredQuestion(
            question + suffix,
            "no_match",
            (Candidate("unknown", 0.2),),
            model_id=servable.model_id,
            vector=pack_vector(vector),
        )
        for suffix in REWORDINGS
        for question, vector in zip(questions, vectors, strict=True)
    ]
    return records[:count]


class _Asker(threading.Thread):
    """Asks one question every ASK_EVERY_S; keeps the worst latency."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.worst_s, self.asked = url, 0.0, 0
        self.done = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=600) as client:
            while not self.done.is_set():
                start = time.perf_counter()
                client.post(f"{self.url}/ask", json={"question": "how do i reset my password?"})
                self.worst_s = max(self.worst_s, time.perf_counter() - start)
                self.asked += 1
                time.sleep(ASK_EVERY_S)


def _round(url: str) -> dict[str, Any]:
    asker = _Asker(url)
    asker.start()
    time.sleep(1)
    start = time.perf_counter()
    response = httpx.get(f"{url}/unanswered", params={"limit": 20}, timeout=600)
    took = time.perf_counter() - start
    response.raise_for_status()
    time.sleep(0.5)
    asker.done.set()
    asker.join()
    return {
        "get_s": round(took, 2),
        "groups": len(response.json()["groups"]),
        "worst_ask_ms": round(asker.worst_s * 1000),
        "asks": asker.asked,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.unanswered", description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--store", type=Path, required=True, help="an indexed store (faq-index)")
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--checkout", type=Path, default=Path("."))
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8077)
    args = parser.parse_args()

    records = _records(args.model, args.questions, args.records)
    checkout = args.checkout.resolve()
    with tempfile.TemporaryDirectory(prefix="bench-unanswered-") as work:
        store = Path(work) / "store"
        shutil.copytree(args.store, store)
        # The log as the service keeps it beside the collection (FAQ_COLLECTION honoured).
        backend = EdgeBackend(store, Settings().collection)
        backend.record_log(UNANSWERED_LOG, UnansweredQuestion).append_many(records)
        env = {
            **os.environ,
            "FAQ_MODEL_PATH": str(args.model.resolve()),
            "FAQ_STORE_PATH": str(store),
            "FAQ_UNANSWERED_MAX_RECORDS": str(args.records),
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
        command = [_python(checkout), "-m", "service", "--port", str(args.port)]
        command += ["--log-level", "warning"]
        rounds = []
        with Server(command, env, args.port, cwd=checkout) as server:
            for _ in range(args.rounds):
                rounds.append(_round(server.url))
                print(f"{checkout.name}: {rounds[-1]}", flush=True)
    print(json.dumps({"checkout": str(checkout), "records": len(records), "rounds": rounds}))


if __name__ == "__main__":
    main()
