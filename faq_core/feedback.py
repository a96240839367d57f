"""Feedback from the chatbot: which answer a user found helpful or not. The service appends each
verdict to the collection's feedback log (`Backend.feedback_log`); `faq-feedback export` reads it.

The log is a record log (faq_core.records) named `feedback`: on the embedded store the JSON Lines
file `<store_path>/<collection>.feedback.jsonl`, on a Qdrant server the payload-only collection
`<collection>_feedback`. Either sits beside the collection, not in one of its versions, because
re-indexing for a new servable builds a new version and feedback must outlive the servable it
was given to.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from faq_core.records import new_record_id, utc_now

FEEDBACK_LOG = "feedback"


@dataclass(frozen=True)
class FeedbackEvent:
    """One verdict: for `question`, the entry `answer_id` was helpful or not."""

    kind: ClassVar[str] = "feedback event"

    question: str
    answer_id: str
    helpful: bool
    model_id: str | None = None  # the servable that was answering
    # What the service answers the question with, as the verdict arrives: whether it answers,
    # why not, and its entries best first (None in events kept before it was recorded).
    answered: bool | None = None
    reason: str | None = None
    ranked: tuple[str, ...] | None = None
    comment: str | None = None
    conversation_id: str | None = None
    id: str = field(default_factory=new_record_id)
    created_at: str = field(default_factory=utc_now)  # UTC, ISO 8601

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: Any) -> FeedbackEvent:
        """Validate one stored event; raises ValueError saying what is wrong."""
        if not isinstance(obj, dict):
            raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
        for key in ("id", "created_at", "question", "answer_id"):
            if not isinstance(obj.get(key), str) or not obj[key]:
                raise ValueError(f"field {key!r} must be a non-empty string")
        if not isinstance(obj.get("helpful"), bool):
            raise ValueError("field 'helpful' must be true or false")
        ranked = obj.get("ranked")
        if ranked is not None and (
            not isinstance(ranked, list) or not all(isinstance(i, str) for i in ranked)
        ):
            raise ValueError("field 'ranked' must be a list of entry ids")
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in obj.items() if k in names}
        if ranked is not None:
            values["ranked"] = tuple(ranked)
        return cls(**values)
