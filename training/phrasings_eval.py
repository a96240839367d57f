"""The phrasings protocol: does the FAQ learn its users' words?

An FAQ with several phrasings of each question, split by half (`../shared/data/stackfaq`, or any
folder with the same two files: `entries.jsonl` and `phrasings.jsonl` of `{"question",
"entry_id", "half"}`, `entry_id` null for a question no entry answers):

1. index the entries (answers and FAQ questions) into a fresh embedded store, as the service does;
2. ask every `b` question (later traffic), decided by the servable's confidence model;
3. attach `a` questions (earlier traffic, reviewed) to their entries as alternate phrasings: all
   of them, or only those the service did not answer right (what a reviewer of the unanswered
   log and of wrong answers attaches); for comparison, the missed ones added as entries of their
   own with the same answer (the only way before entries had several questions);
4. ask every `b` question again; with the operating point recalibrated on the reviewed `a`
   traffic too.

Reported for each: right-first (the first entry is the right one, of the answerable questions),
answered-and-right and answered-and-wrong (of the answerable ones), unanswerable ones answered,
and precision when answering (right answers over all answers).

    python -m training.phrasings_eval --model var/model [--faq ../shared/data/stackfaq]
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from faq_core.answering import Answer, Confidence
from faq_core.calibration import Calibration, CalibrationPolicy
from faq_core.confidence import DEPTH, decide
from faq_core.encoding import encode_entries
from faq_core.entries import FaqEntry, Phrasing
from faq_core.feedback import FeedbackEvent
from faq_core.reviews import Review, review_outcomes, review_request
from faq_core.servable import Servable, serving_model
from faq_core.settings import Settings
from faq_core.sources import read_entries
from faq_core.store import AnswerStore, CollectionLayout, SearchRequest
from faq_core.store.edge import EdgeStore, FileRecordLog
from feedback.export import export_pairs

STACKFAQ = Path(__file__).resolve().parents[2] / "shared" / "data" / "stackfaq"

log = logging.getLogger(__name__)
# Payload key of an entry added as a copy of another with another question.
COPY_OF = "copy_of"


@dataclass(frozen=True)
class Asked:
    """A question of the protocol: its text, the entry that answers it (None: none does), the
    half of the traffic it belongs to."""

    question: str
    entry_id: str | None
    half: str


def read_protocol(folder: Path) -> tuple[list[FaqEntry], list[Asked]]:
    entries = read_entries(folder / "entries.jsonl", require_question=False)
    rows = [json.loads(line) for line in (folder / "phrasings.jsonl").read_text().splitlines()]
    return entries, [Asked(r["question"], r.get("entry_id"), r["half"]) for r in rows]


@dataclass(frozen=True)
class Outcome:
    """What the service did with one question."""

    asked: Asked
    answers: list[Answer]
    answered: bool

    @property
    def first(self) -> str | None:
        """The first entry's id; for a copy (`Deployment.add_as_entries`), its original's."""
        if not self.answers:
            return None
        entry = self.answers[0].hit.entry
        return str(entry.extra.get(COPY_OF, entry.entry_id))

    @property
    def right_first(self) -> bool:
        return self.asked.entry_id is not None and self.first == self.asked.entry_id

    @property
    def answered_right(self) -> bool:
        return self.answered and self.right_first


def ask_all(
    store: AnswerStore,
    servable: Servable,
    asked: Sequence[Asked],
    min_confidence: float | None = None,
    vectors: np.ndarray | None = None,
) -> list[Outcome]:
    """Each question asked as `/ask` does: searched DEPTH deep, ranked by the servable's
    confidence model, answered at `min_confidence` (default: the servable's point)."""
    confidence = Confidence.of_servable(servable)
    point = confidence.operating_point(min_confidence)
    if vectors is None:
        vectors = servable.encode([a.question for a in asked])
    found = store.search_each([SearchRequest(v, DEPTH) for v in vectors])
    outcomes = []
    for item, hits in zip(asked, found, strict=True):
        ranked = confidence.rank(hits)
        decision = decide([a.confidence for a in ranked], point)
        outcomes.append(Outcome(item, ranked, decision.answered))
    return outcomes


class Decided(Protocol):
    """What the figures read of one question asked: `Outcome`, or an `/ask` response."""

    @property
    def asked(self) -> Asked: ...

    @property
    def answered(self) -> bool: ...

    @property
    def right_first(self) -> bool: ...

    @property
    def answered_right(self) -> bool: ...


def figures(outcomes: Sequence[Decided]) -> dict[str, Any]:
    answerable = [o for o in outcomes if o.asked.entry_id is not None]
    unanswerable = [o for o in outcomes if o.asked.entry_id is None]
    answered = [o for o in outcomes if o.answered]
    n = max(1, len(answerable))
    result: dict[str, Any] = {
        "questions": len(outcomes),
        "right_first": sum(o.right_first for o in answerable) / n,
        "answered_and_right": sum(o.answered_right for o in answerable) / n,
        "answered_and_wrong": sum(o.answered and not o.right_first for o in answerable) / n,
        "precision_when_answering": (
            sum(o.answered_right for o in answered) / len(answered) if answered else None
        ),
        "answered": len(answered) / max(1, len(outcomes)),
    }
    if unanswerable:
        result["unanswerable_answered"] = sum(o.answered for o in unanswerable) / len(unanswerable)
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}


class Deployment:
    """The FAQ indexed into a fresh embedded store, as `faq-index` and the service do."""

    def __init__(self, servable: Servable, entries: Sequence[FaqEntry], root: Path) -> None:
        self.servable = servable
        self.store = EdgeStore(root, "faq")
        self.store.open(CollectionLayout(servable.dim, servable.model_id), create=True)
        self.store.upsert(encode_entries(servable, entries))
        self.store.optimize()

    def attach(self, pairs: Sequence[Asked]) -> int:
        """Add each question to its entry as an alternate phrasing (an accepted suggestion)."""
        by_entry: dict[str, list[str]] = {}
        for item in pairs:
            assert item.entry_id is not None
            by_entry.setdefault(item.entry_id, []).append(item.question)
        added = 0
        for entry_id, questions in by_entry.items():
            entry = self.store.get(entry_id)
            assert entry is not None, entry_id
            vectors = self.servable.encode(questions)
            added += self.store.add_phrasings(
                entry, [(Phrasing(q, True), v) for q, v in zip(questions, vectors, strict=True)]
            )
        return added

    def add_as_entries(self, pairs: Sequence[Asked]) -> None:
        """Each question as an entry of its own with its entry's answer (no phrasings)."""
        entries = self.store.get_many(sorted({p.entry_id for p in pairs if p.entry_id}))
        copies = [
            FaqEntry(
                entries[p.entry_id].answer,
                p.question,
                entries[p.entry_id].source,
                extra={COPY_OF: p.entry_id},
            )
            for p in pairs
            if p.entry_id is not None
        ]
        self.store.upsert(encode_entries(self.servable, copies))

    def close(self) -> None:
        self.store.close()


def reviews_of(outcomes: Sequence[Outcome], attached: Sequence[Asked]) -> list[Review]:
    """What a reviewer decided of the earlier traffic: the `attached` questions attached to
    their entries; the questions no entry answers rejected for the entry the service offered."""
    reviews = [Review(a.question, "attached", a.entry_id) for a in attached if a.entry_id]
    reviews += [
        Review(o.asked.question, "rejected", o.first)
        for o in outcomes
        if o.asked.entry_id is None and o.first is not None
    ]
    return reviews


def calibrate(
    store: AnswerStore, servable: Servable, reviews: Sequence[Review], min_reviewed: int
) -> Calibration:
    """The operating point the service refits on these reviews (service/calibration_book.py)."""
    confidence = Confidence.of_servable(servable)
    vectors = servable.encode([r.question for r in reviews])
    found = store.search_each([review_request(r, v) for r, v in zip(reviews, vectors, strict=True)])
    model = confidence.model
    policy = CalibrationPolicy(model.target_precision if model else 0.9, min_reviewed=min_reviewed)
    return policy.fit(
        review_outcomes(reviews, found, confidence),
        current=model.min_confidence if model else None,
    )


def run_protocol(
    servable: Servable,
    entries: list[FaqEntry],
    asked: list[Asked],
    workdir: Path,
    min_reviewed: int = 30,
    export: Path | None = None,
) -> dict[str, Any]:
    earlier = [a for a in asked if a.half == "a"]
    later = [a for a in asked if a.half == "b"]
    later_vectors = servable.encode([a.question for a in later])
    report: dict[str, Any] = {
        "servable": servable.model_id,
        "entries": len(entries),
        "earlier_questions": len(earlier),
        "later_questions": len(later),
    }

    def deployment(name: str) -> Deployment:
        return Deployment(servable, entries, workdir / name)

    base = deployment("before")
    try:
        report["before"] = figures(ask_all(base.store, servable, later, vectors=later_vectors))
        reviewed = ask_all(base.store, servable, earlier)
    finally:
        base.close()
    missed = [o.asked for o in reviewed if o.asked.entry_id is not None and not o.answered_right]
    report["earlier_missed"] = len(missed)
    attachable = [a for a in earlier if a.entry_id is not None]
    for name, pairs in (("attach_missed", missed), ("attach_all", attachable)):
        live = deployment(name)
        try:
            live.attach(pairs)
            if export is not None and name == "attach_missed":
                # What `faq-feedback export` writes of this deployment: its accepted phrasings.
                empty = FileRecordLog(workdir / "no-feedback.jsonl", FeedbackEvent)
                exported = export_pairs(live.store, empty, export, phrasings=True)
                report["exported"] = exported.as_dict()
            report[name] = figures(ask_all(live.store, servable, later, vectors=later_vectors))
            fitted = calibrate(live.store, servable, reviews_of(reviewed, pairs), min_reviewed)
            report[f"{name}_recalibrated"] = {
                **figures(
                    ask_all(
                        live.store,
                        servable,
                        later,
                        fitted.min_confidence,
                        vectors=later_vectors,
                    )
                ),
                "calibration": fitted._asdict(),
            }
        finally:
            live.close()
    copies = deployment("missed_as_entries")
    try:
        copies.add_as_entries(missed)
        report["missed_as_entries"] = figures(
            ask_all(copies.store, servable, later, vectors=later_vectors)
        )
    finally:
        copies.close()
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.phrasings_eval", description=__doc__)
    parser.add_argument("--model", type=Path, help="servable directory (default FAQ_MODEL_PATH)")
    parser.add_argument("--faq", type=Path, default=STACKFAQ, help="protocol folder")
    parser.add_argument(
        "--plot",
        type=Path,
        help="draw the figures of this run, and of earlier runs' JSON given as --with NAME=FILE",
    )
    parser.add_argument(
        "--with",
        dest="others",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="another FAQ's report (this command's JSON output) to draw beside this one",
    )
    parser.add_argument(
        "--export",
        type=Path,
        help="write the accepted phrasings of the missed earlier questions as `faq-feedback "
        "export` does, for `faq-train --feedback` (the retraining measurement)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = Settings()
    if args.model is not None:
        settings = replace_model(settings, args.model)
    servable = serving_model(settings)
    entries, asked = read_protocol(args.faq)
    with tempfile.TemporaryDirectory(prefix="phrasings-eval-") as workdir:
        report = run_protocol(servable, entries, asked, Path(workdir), export=args.export)
    report["faq"] = str(args.faq)
    print(json.dumps(report, indent=2))
    if args.plot is not None:
        from training.plots import plot_phrasings_protocol

        reports = {args.faq.name: report}
        for item in args.others:
            name, _, path = item.partition("=")
            reports[name] = json.loads(Path(path).read_text())
        plot_phrasings_protocol(reports, args.plot)


def replace_model(settings: Settings, model: Path) -> Settings:
    return settings.model_copy(update={"model_path": model})


if __name__ == "__main__":
    main()
