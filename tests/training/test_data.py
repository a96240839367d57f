"""Training inputs: feedback pairs join the training pairs only, repeated, and are recorded."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path

from faq_core.answer_encoding import AnswerEncoding
from training.data import load_pairs
from training.train import FEEDBACK_REPEAT, TrainInputs

FEEDBACK_ROWS = [
    {"question": "can i pay later?", "answer": "invoices come with the business plan"},
    {"question": "is the old plan still sold?", "answer": "no", "source": "billing", "x": 1},
]


def write_feedback(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_feedback_pairs_join_training_only_each_repeated(tmp_path: Path, val_file: Path) -> None:
    feedback = write_feedback(tmp_path / "feedback.jsonl", FEEDBACK_ROWS)
    plain = TrainInputs(train=val_file, val=val_file, limit=30)
    inputs = TrainInputs(
        train=val_file, val=val_file, limit=30, feedback=(feedback,), feedback_repeat=3
    )
    base_train, base_val = plain.load()
    train, val = inputs.load()
    assert val == base_val == load_pairs(val_file, 30)
    assert train.questions[:30] == base_train.questions
    assert train.questions[30:] == [row["question"] for row in FEEDBACK_ROWS] * 3
    assert train.answers[30:] == [row["answer"] for row in FEEDBACK_ROWS] * 3
    assert train.sources[30:] == [None, "billing"] * 3


def test_feedback_is_recorded_for_the_manifest(tmp_path: Path, val_file: Path) -> None:
    first = write_feedback(tmp_path / "a.jsonl", FEEDBACK_ROWS)
    empty = write_feedback(tmp_path / "b.jsonl", [])
    assert TrainInputs(train=val_file, val=val_file).feedback_record() is None
    record = TrainInputs(train=val_file, val=val_file, feedback=(first, empty)).feedback_record()
    assert record == {
        "checksums": [hashlib.sha256(p.read_bytes()).hexdigest() for p in (first, empty)],
        "pairs": 2,
        "repeat": FEEDBACK_REPEAT,
    }


def test_an_empty_feedback_file_adds_nothing(tmp_path: Path, val_file: Path) -> None:
    empty = write_feedback(tmp_path / "feedback.jsonl", [])
    train, _ = TrainInputs(train=val_file, val=val_file, limit=10, feedback=(empty,)).load()
    assert len(train) == 10


def test_the_answer_context_applies_to_every_pair_the_inputs_load(
    tmp_path: Path, val_file: Path
) -> None:
    feedback = write_feedback(tmp_path / "feedback.jsonl", FEEDBACK_ROWS)
    plain = TrainInputs(train=val_file, val=val_file, limit=30, feedback=(feedback,))
    context = ("source", "filename")
    train, val = replace(plain, answer_encoding=AnswerEncoding(context)).load()
    base_train, base_val = plain.load()
    # Mixed in at encoding time, the context is not trained on: the model must encode both.
    mixed = replace(plain, answer_encoding=AnswerEncoding(context, 0.3)).load()
    assert mixed == (base_train, base_val)
    assert train.questions == base_train.questions and val.questions == base_val.questions
    rows = [json.loads(line) for line in val_file.read_text().splitlines()[:30]]
    for row, answer in zip(rows, val.answers, strict=True):
        label = re.split(r"[\s_-]+", f"{row['source']} {row['filename'] or ''}".strip())
        assert answer == f"{' '.join(label)}: {row['answer']}"
    feedback_answers = train.answers[30:]
    assert feedback_answers[:2] == ["invoices come with the business plan", "billing: no"]


def test_the_reference_split_of_an_faq_whose_sources_cannot_be_stratified() -> None:
    """A QnA export names a URL per entry, a page none: a source of one entry cannot be
    stratified, so the split is a random one with the same seed, 25% held out."""
    from faq_core.entries import FaqEntry
    from training.data import reference_split

    entries = [FaqEntry(answer=f"a{i}.", question=f"q{i}?", source=f"s{i % 5}") for i in range(11)]
    entries.append(FaqEntry(answer="alone.", question="alone?", source="only-one"))
    train, val = reference_split(entries)
    assert (len(train), len(val)) == (9, 3)
    assert {e.question for e in train} | {e.question for e in val} == {e.question for e in entries}
    assert reference_split(entries) == (train, val)  # the same seed, the same split
