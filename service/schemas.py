"""Wire schemas of the HTTP contract (docs/design.md), named for their role."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from faq_core.entries import MAX_QUESTIONS

MAX_TOP_K = 50
MAX_ENTRIES_PER_REQUEST = 1000
MAX_PAGE = 500
# The offsets a listing hands out are point ids, which are UUIDs.
OFFSET_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

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
    score_threshold: float | None = Field(
        None, ge=-1.0, le=1.0, description="leave out answers scoring below this cosine score"
    )
    min_confidence: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="answer only when the first entry is at least this likely to answer the "
        "question; default: FAQ_MIN_CONFIDENCE, else the servable's operating point (90% of "
        "answered validation questions right)",
    )


class AnswerPublic(BaseModel):
    id: str
    question: str | None
    answer: str
    source: str | None
    score: float
    matched: Literal["answer", "question", "alternate"] = Field(
        description="what of the entry matched: its answer, its FAQ question, or one of its "
        "alternate phrasings"
    )
    matched_text: str | None = Field(
        description="the question that matched: the alternate phrasing or the FAQ question; null "
        "when the answer matched (it is `answer`)"
    )
    confidence: float = Field(
        ge=0.0, le=1.0, description="the probability that this entry answers the question"
    )


class AnswersPublic(BaseModel):
    answered: bool = Field(
        description="true: the first answer is confident enough to give; false: hand the "
        "conversation over (the answers are then suggestions only)"
    )
    reason: Literal["no_match", "ambiguous"] | None = Field(
        description="why not answered: no_match (no entry is likely enough), ambiguous (two "
        "different entries are about equally likely: let the user choose); null when answered"
    )
    min_confidence: float = Field(description="the operating point the decision was made at")
    answers: list[AnswerPublic] = Field(description="best first, also when not answered")


class CandidatePublic(BaseModel):
    id: str
    confidence: float | None = Field(description="null for an answer marked unhelpful")


class UnansweredGroupPublic(BaseModel):
    count: int = Field(description="questions in the group, repeats included")
    questions: list[str] = Field(description="distinct, most frequent first")
    first_seen: str
    last_seen: str
    best_candidate: CandidatePublic | None = Field(
        description="the entry the service found most likely, with its confidence"
    )
    reasons: dict[str, int] = Field(description="how many were no_match, ambiguous, unhelpful")
    resolved: bool = Field(description="an entry now answers its most frequent question")


class UnansweredPublic(BaseModel):
    groups: list[UnansweredGroupPublic] = Field(
        description="open groups first, then resolved ones, each part biggest first"
    )


Questions = Annotated[list[QuestionText], Field(min_length=1, max_length=MAX_QUESTIONS)]


class EntryCreate(Strict):
    answer: AnswerText
    question: OptionalText | None = None
    questions: Questions | None = Field(
        None,
        description="instead of `question`: the FAQ question first, then alternate phrasings of "
        f"it ({MAX_QUESTIONS} at most); repeats are dropped",
    )
    source: OptionalText | None = None
    id: EntryId | None = None

    @model_validator(mode="after")
    def _one_question_field(self) -> EntryCreate:
        if self.questions is not None and self.question not in (None, self.questions[0]):
            raise ValueError("give 'question' or 'questions' (the FAQ question first), not both")
        return self

    @property
    def all_questions(self) -> list[str]:
        """The FAQ question first, then the alternate phrasings."""
        if self.questions is not None:
            return self.questions
        return [] if self.question is None else [self.question]


class QuestionsCreate(Strict):
    """Alternate phrasings of an entry's FAQ question."""

    questions: Questions = Field(
        description="phrasings to add; those the entry has already (case and spacing aside) "
        "change nothing"
    )
    reviewed: Literal["attached", "written"] | None = Field(
        None,
        description="these are users' questions a person decided: `attached` (the entry "
        "answers them), `written` (the entry was written for them); kept as reviews, which "
        "recalibrate when to answer",
    )


class EntrySummary(BaseModel):
    question: str | None
    answer: str
    source: str | None


class SuggestionPublic(BaseModel):
    id: str
    entry_id: str = Field(description="the entry the questions are proposed for")
    entry: EntrySummary = Field(description="that entry's FAQ question, answer and source")
    questions: list[str] = Field(description="users' questions of one meaning, most asked first")
    count: int = Field(description="times they were asked or chosen, repeats included")
    reasons: dict[str, int] = Field(
        description="unanswered (the entry was plausible), chosen (a user picked it), "
        "ambiguous (a user turned down the other close entry)"
    )
    first_seen: str
    last_seen: str


class SuggestionsPage(BaseModel):
    suggestions: list[SuggestionPublic] = Field(description="biggest first")
    next_offset: int | None = Field(description="pass as `offset` for the next page")


class SuggestionAccept(Strict):
    entry_id: EntryId | None = Field(
        None, description="attach to this entry instead of the suggested one"
    )
    questions: Questions | None = Field(
        None, description="only these of the suggestion's questions (default: all)"
    )


class SuggestionReject(Strict):
    questions: Questions | None = Field(
        None, description="only these of the suggestion's questions (default: all)"
    )


class QuestionsDecided(BaseModel):
    questions: list[str]


class EntriesCreate(Strict):
    entries: list[EntryCreate] = Field(min_length=1, max_length=MAX_ENTRIES_PER_REQUEST)


class IdsPublic(BaseModel):
    ids: list[str]


class ImportProblem(BaseModel):
    where: str = Field(description="file:line, a sheet's row, a page's element, or an entry")
    reason: str


class ImportReport(BaseModel):
    format: Literal["jsonl", "csv", "tsv", "xlsx", "markdown", "html"] = Field(
        description="how the file was read (told from its name, its type and its content)"
    )
    ids: list[str] = Field(description="the entries added or updated, searchable now")
    problems: list[ImportProblem] = Field(
        description="every row or item that could not be imported, and where it is (the "
        "first 1,000)"
    )
    problem_count: int


class EntryPublic(BaseModel):
    id: str
    question: str | None = Field(description="the FAQ question")
    questions: list[str] = Field(
        description="every question of the entry: the FAQ question first, then the alternate "
        "phrasings, those it came with and then those added to it"
    )
    answer: str
    source: str | None


class SuggestionAccepted(BaseModel):
    entry: EntryPublic = Field(description="the entry with its questions now")
    questions: list[str] = Field(description="the questions attached")


class EntriesPage(BaseModel):
    """One page of the FAQ's entries, in the store's own stable order."""

    entries: list[EntryPublic]
    next_offset: str | None = Field(
        description="pass as `offset` to get the next page; null after the last page"
    )


class SourceCount(BaseModel):
    source: str
    count: int


class SourcesPublic(BaseModel):
    total: int = Field(description="entries in the FAQ, with a source or without one")
    sources: list[SourceCount] = Field(description="each source's entries, biggest first")


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


class Readiness(Status):
    writes: str | None = Field(
        None,
        description="'ok', or 'refused: ...' while the store's disk is short of space (reads "
        "are served, writes get 507)",
    )
