"""FAQ entries and their deterministic ids (reading them from files: `faq_core.sources`).

An entry is one answer and its questions: the first is its FAQ question, the rest are alternate
phrasings of it. Phrasings come with the entry (a data file's `questions`, `POST /answers`) or are
added to it later (`POST /answers/{id}/questions`, an accepted suggestion); the added ones are
kept when the entry itself is posted or indexed again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

# Fixed namespaces: the same entry gets the same id on every machine and every run.
_ENTRY_NAMESPACE = uuid.UUID("6f1c3d4e-2a0b-5c9d-8e7f-1a2b3c4d5e6f")
_POINT_NAMESPACE = uuid.UUID("0b7e9a52-4c1d-5f3e-9a8b-7c6d5e4f3a2b")
_PHRASING_NAMESPACE = uuid.UUID("3c8d2f61-7b4e-5a09-b1c2-d3e4f5a6b7c8")

# An entry's questions at most, its FAQ question included: enough for every way users put one
# question, few enough that one entry cannot crowd a search (docs/design.md).
MAX_QUESTIONS = 100
# Payload keys the store owns; extra fields from a data file may not overwrite them.
RESERVED_KEYS = frozenset({"id", "question", "questions", "alternates", "answer", "source"})
# Payload key marking entries added through the API: a re-index keeps them though no data file
# has them, and drops entries that left the data file.
ORIGIN_KEY = "origin"
RUNTIME_ORIGIN = "api"
# A CSV file's alternate phrasings: one per line of this column's cell.
CSV_ALTERNATES = "alternates"


def question_key(question: str) -> str:
    """Questions that differ only in case and spacing are the same question (the encoder's
    tokenizer lower-cases, and the service strips)."""
    return " ".join(question.split()).casefold()


class Phrasing(NamedTuple):
    """An alternate phrasing of an entry's FAQ question."""

    text: str
    # Added after the entry (POST /answers/{id}/questions, an accepted suggestion): kept when the
    # entry is posted or indexed again, which replaces only the phrasings that came with it.
    added: bool = False


def distinct_phrasings(question: str | None, phrasings: Sequence[Phrasing]) -> tuple[Phrasing, ...]:
    """`phrasings` without repeats and without the FAQ question itself, first one kept
    (`question_key` decides what is the same)."""
    seen = {question_key(question)} if question is not None else set()
    kept = []
    for phrasing in phrasings:
        key = question_key(phrasing.text)
        if key and key not in seen:
            seen.add(key)
            kept.append(phrasing)
    return tuple(kept)


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ article: an answer, optionally the question it answers and other phrasings of
    that question, and where it comes from."""

    answer: str
    question: str | None = None
    source: str | None = None
    id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    phrasings: tuple[Phrasing, ...] = ()  # alternate phrasings of `question`, in order

    @property
    def questions(self) -> tuple[str, ...]:
        """Its FAQ question, then its alternate phrasings (an entry without a FAQ question may
        have phrasings all the same: added ones)."""
        own = () if self.question is None else (self.question,)
        return (*own, *(p.text for p in self.phrasings))

    def with_phrasings(self, phrasings: Sequence[Phrasing]) -> FaqEntry:
        return replace(self, phrasings=distinct_phrasings(self.question, phrasings))

    @property
    def entry_id(self) -> str:
        """The public id: the given one, else derived from the content (same entry, same id)."""
        if self.id is not None:
            return self.id
        key = "\x1f".join((self.source or "", self.question or "", self.answer))
        return str(uuid.uuid5(_ENTRY_NAMESPACE, key))

    def answer_text(self, context: Sequence[str] = ()) -> str:
        """The text the answer is encoded as: prefixed with the entry's values of the `context`
        fields it has (`AnswerEncoding.context`), e.g. "aws ec2 faqs: <answer>".

        An answer alone often does not name what it is about ("enter the meeting id into the
        device console"); the FAQ page it comes from does.
        """
        labels = [
            _label(self.source if name == "source" else self.extra.get(name)) for name in context
        ]
        prefix = " ".join(label for label in labels if label)
        return f"{prefix}: {self.answer}" if prefix else self.answer

    @property
    def added_at_runtime(self) -> bool:
        return self.extra.get(ORIGIN_KEY) == RUNTIME_ORIGIN

    def payload(self) -> dict[str, Any]:
        """What the store keeps beside the entry's vectors, enough to rebuild the entry but for
        its phrasings, which the store keeps as points of their own."""
        return {
            **self.extra,
            "id": self.entry_id,
            "question": self.question,
            "answer": self.answer,
            "source": self.source,
        }

    def data_line(self) -> dict[str, Any]:
        """The entry as a data file has it (what `parse_entry` reads back), every field of its
        own kept for the answer context; not where it came from (`origin`) nor a derived id.
        Its phrasings, added ones included, are its `questions`."""
        extra = {k: v for k, v in self.extra.items() if k != ORIGIN_KEY}
        asked: dict[str, Any] = (
            {"questions": list(self.questions)} if self.phrasings else {"question": self.question}
        )
        return {**extra, **asked, "answer": self.answer, "source": self.source}

    def pair_line(self, question: str) -> dict[str, Any]:
        """The entry as a training pair for `question` (one of its phrasings, or a user's
        question it answered): `data_line` with that one question."""
        line = {k: v for k, v in self.data_line().items() if k != "questions"}
        return {**line, "question": question}

    @classmethod
    def from_payload(cls, payload: dict[str, Any], phrasings: Sequence[Phrasing] = ()) -> FaqEntry:
        extra = {k: v for k, v in payload.items() if k not in RESERVED_KEYS}
        return cls(
            answer=payload["answer"],
            question=payload.get("question"),
            source=payload.get("source"),
            id=payload["id"],
            extra=extra,
            phrasings=tuple(phrasings),
        )


def _label(value: Any) -> str:
    """A field value as words: page names like "premiumsupport_ta-faqs" split at _ and -."""
    if not isinstance(value, str):
        return ""
    return " ".join(value.replace("_", " ").replace("-", " ").split())


def point_id(entry_id: str) -> str:
    """The store's point id for a public id: Qdrant takes only UUIDs and integers."""
    return str(uuid.uuid5(_POINT_NAMESPACE, entry_id))


def phrasing_point_id(entry_id: str, text: str) -> str:
    """The store's point id of one phrasing of an entry: the same phrasing (`question_key`) of
    the same entry is the same point, so adding it again changes nothing."""
    return str(uuid.uuid5(_PHRASING_NAMESPACE, f"{entry_id}\x1f{question_key(text)}"))


def _text(obj: dict[str, Any], key: str, *, required: bool) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise ValueError(f"field {key!r} is missing")
        return None
    if not isinstance(value, str):
        raise ValueError(f"field {key!r} must be a string, got {type(value).__name__}")
    if not value.strip():
        if required:
            raise ValueError(f"field {key!r} is empty")
        return None
    return value


def _questions(obj: dict[str, Any], *, require_question: bool) -> list[str]:
    """The object's questions, its FAQ question first: `questions` (a list), or `question`."""
    if "alternates" in obj:
        raise ValueError("alternate phrasings go in 'questions', the FAQ question first")
    listed = obj.get("questions")
    if listed is None:
        question = _text(obj, "question", required=require_question)
        return [] if question is None else [question]
    if not isinstance(listed, list) or not all(isinstance(q, str) for q in listed):
        raise ValueError("field 'questions' must be a list of strings")
    questions = [q for q in listed if q.strip()]
    if len(questions) < len(listed):
        raise ValueError("field 'questions' has an empty question")
    if not questions and require_question:
        raise ValueError("field 'questions' is empty")
    if len(questions) > MAX_QUESTIONS:
        raise ValueError(
            f"field 'questions' has {len(questions)} questions, more than {MAX_QUESTIONS}"
        )
    given = obj.get("question")
    if given is not None and (not questions or given != questions[0]):
        raise ValueError("field 'question' differs from the first of 'questions': give one of them")
    return questions


def parse_entry(obj: Any, *, require_question: bool) -> FaqEntry:
    """Validate one decoded JSON object; raises ValueError saying what is wrong."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    answer = _text(obj, "answer", required=True)
    assert answer is not None
    entry_id = obj.get("id")
    if entry_id is not None and (not isinstance(entry_id, str) or not entry_id.strip()):
        raise ValueError("field 'id' must be a non-empty string")
    questions = _questions(obj, require_question=require_question)
    return FaqEntry(
        answer=answer,
        question=questions[0] if questions else None,
        source=_text(obj, "source", required=False),
        id=entry_id,
        extra={k: v for k, v in obj.items() if k not in RESERVED_KEYS},
    ).with_phrasings([Phrasing(q) for q in questions[1:]])
