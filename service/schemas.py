"""Wire schemas of the HTTP contract (docs/design.md), named for their role."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_TOP_K = 50
MAX_ENTRIES_PER_REQUEST = 1000

# Whitespace is stripped first, so "   " is refused as empty.
QuestionText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
]
AnswerText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)
]
OptionalText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
]
EntryId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Strict(BaseModel):
    """Unknown fields are refused: a typo must not be silently ignored."""

    model_config = ConfigDict(extra="forbid")


class AskFilter(Strict):
    source: OptionalText


class AskRequest(Strict):
    question: QuestionText
    top_k: int = Field(3, ge=1, le=MAX_TOP_K)
    filter: AskFilter | None = None
    score_threshold: float | None = Field(None, ge=-1.0, le=1.0)


class AnswerPublic(BaseModel):
    id: str
    question: str | None
    answer: str
    source: str | None
    score: float
    matched: Literal["answer", "question"] = Field(description="which vector of the entry matched")


class AnswersPublic(BaseModel):
    answers: list[AnswerPublic]


class EntryCreate(Strict):
    answer: AnswerText
    question: OptionalText | None = None
    source: OptionalText | None = None
    id: EntryId | None = None


class EntriesCreate(Strict):
    entries: list[EntryCreate] = Field(min_length=1, max_length=MAX_ENTRIES_PER_REQUEST)


class IdsPublic(BaseModel):
    ids: list[str]


class EntryPublic(BaseModel):
    id: str
    question: str | None
    answer: str
    source: str | None


class FeedbackCreate(Strict):
    """A user's verdict on one answer the service gave to their question."""

    question: QuestionText = Field(description="the user's question, as asked")
    answer_id: EntryId = Field(description="the id of the answer the verdict is about")
    helpful: bool = Field(strict=True, description="true: it answered the question")
    comment: OptionalText | None = Field(None, description="free text from the user or an agent")
    conversation_id: EntryId | None = Field(None, description="the chatbot's reference")


class FeedbackPublic(BaseModel):
    id: str
    created_at: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[dict[str, object]] | None = None
    request_id: str | None = None


class ErrorPublic(BaseModel):
    error: ErrorDetail


class Status(BaseModel):
    status: Literal["ok", "not ready"]
    reason: str | None = None
