"""The phrasings protocol through the service's own API, as a support team would run it.

`faq-serve` on a fresh embedded store; the entries posted (`POST /answers`); the later half of
the users' questions asked; then the earlier half asked, and reviewed the way a person works
through the console:

- a suggestion (`GET /suggestions`) is accepted for the questions its entry answers, accepted to
  the right entry for those another entry answers, and rejected for those no entry answers;
- a question answered wrongly gets `helpful: false` feedback and is attached to its right entry
  (`POST /answers/{id}/questions`); so is an unanswered question no suggestion proposed.

The later half is asked again once the service has refitted its operating point on the reviews
(its first asking is taken out of the unanswered log: it is measured, never reviewed).
Reported as training.phrasings_eval reports it (`figures`).

    python -m training.phrasings_http --model var/model [--faq ../shared/data/stackfaq]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from bench.run import Server
from faq_core.entries import question_key
from training.phrasings_eval import STACKFAQ, Asked, figures, read_protocol

PORT = 18950
BATCH = 200


class _Outcome:
    """An answer of `/ask` in the shape `figures` reads."""

    def __init__(self, asked: Asked, body: dict[str, Any]) -> None:
        self.asked = asked
        self.answered = bool(body["answered"])
        self.first = body["answers"][0]["id"] if body["answers"] else None

    @property
    def right_first(self) -> bool:
        return self.asked.entry_id is not None and self.first == self.asked.entry_id

    @property
    def answered_right(self) -> bool:
        return self.answered and self.right_first


def _ask_all(client: httpx.Client, asked: list[Asked]) -> list[_Outcome]:
    return [
        _Outcome(a, client.post("/ask", json={"question": a.question}).raise_for_status().json())
        for a in asked
    ]


def _review(client: httpx.Client, earlier: list[_Outcome]) -> dict[str, int]:
    """What a person does with the earlier traffic (the module's docstring); returns counts."""
    right_of = {question_key(o.asked.question): o.asked.entry_id for o in earlier}
    counts: dict[str, int] = defaultdict(int)
    for o in earlier:
        if o.answered and not o.right_first:
            client.post(
                "/feedback",
                json={"question": o.asked.question, "answer_id": o.first, "helpful": False},
            ).raise_for_status()
    time.sleep(2)  # the unanswered log is written off the request path
    decided: set[str] = set()
    while True:
        found = client.get("/suggestions", params={"limit": 500}).raise_for_status().json()
        pending = [
            s
            for s in found["suggestions"]
            if any(question_key(q) not in decided for q in s["questions"])
        ]
        if not pending:
            break
        suggestion = pending[0]
        by_entry: dict[str | None, list[str]] = defaultdict(list)
        for question in suggestion["questions"]:
            by_entry[right_of.get(question_key(question))].append(question)
        # One action on the suggestion, then list again: a partly decided one changes its id.
        entry_id, questions = next(iter(by_entry.items()))
        path = f"/suggestions/{suggestion['id']}"
        if entry_id is None:
            client.post(f"{path}/reject", json={"questions": questions}).raise_for_status()
            counts["rejected"] += len(questions)
        else:
            body = {"questions": questions, "entry_id": entry_id}
            client.post(f"{path}/accept", json=body).raise_for_status()
            counts["accepted" if entry_id == suggestion["entry_id"] else "moved"] += len(questions)
        decided.update(question_key(q) for q in questions)
    for o in earlier:
        key = question_key(o.asked.question)
        if o.asked.entry_id is None or o.answered_right or key in decided:
            continue
        body = {"questions": [o.asked.question]}
        client.post(f"/answers/{o.asked.entry_id}/questions", json=body).raise_for_status()
        counts["attached"] += 1
        decided.add(key)
    return dict(counts)


def _calibrated(client: httpx.Client, reviewed: int, timeout_s: float = 300) -> dict[str, Any]:
    """The manifest's calibration once it is fitted with at least `reviewed` reviews."""
    deadline = time.monotonic() + timeout_s
    while True:
        calibration: dict[str, Any] = client.get("/manifest").json()["calibration"]
        fit = calibration["fit"]
        if (fit and fit["reviews"] >= reviewed) or time.monotonic() > deadline:
            return calibration
        time.sleep(1)


def run(model: Path, folder: Path, workdir: Path) -> dict[str, Any]:
    entries, asked = read_protocol(folder)
    earlier = [a for a in asked if a.half == "a"]
    later = [a for a in asked if a.half == "b"]
    env = {
        **os.environ,
        "FAQ_MODEL_PATH": str(model.resolve()),
        "FAQ_STORE_PATH": str(workdir / "store"),
        "FAQ_CALIBRATION_INTERVAL_S": "2",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    command = [sys.executable, "-m", "service", "--port", str(PORT), "--log-level", "warning"]
    with (
        Server(command, env, PORT) as server,
        httpx.Client(base_url=server.url, timeout=120) as client,
    ):
        rows = [{**e.data_line(), "id": e.entry_id} for e in entries]
        for start in range(0, len(rows), BATCH):
            body = {"entries": [_posted(r) for r in rows[start : start + BATCH]]}
            client.post("/answers", json=body).raise_for_status()
        report: dict[str, Any] = {"before": figures(_ask_all(client, later))}
        # The later half is measured, not reviewed: its questions leave the unanswered log.
        client.delete("/unanswered").raise_for_status()
        reviewed = _review(client, _ask_all(client, earlier))
        report["reviewed"] = reviewed
        report["calibration"] = _calibrated(client, sum(reviewed.values()))
        report["after"] = figures(_ask_all(client, later))
    return report


def _posted(row: dict[str, Any]) -> dict[str, Any]:
    """A data line as `POST /answers` takes an entry (its own fields only)."""
    return {k: row[k] for k in ("id", "question", "questions", "answer", "source") if row.get(k)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.phrasings_http", description=__doc__)
    parser.add_argument("--model", type=Path, required=True, help="servable directory")
    parser.add_argument("--faq", type=Path, default=STACKFAQ, help="protocol folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="phrasings-http-") as workdir:
        report = run(args.model, args.faq, Path(workdir))
    report["faq"] = str(args.faq)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
