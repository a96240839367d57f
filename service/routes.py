"""The HTTP contract of docs/design.md. Handlers validate, call the engine, shape the answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from faq_core.entries import FaqEntry, Phrasing
from faq_core.errors import DataFileError, FaqError, NothingImported
from service.console import available_plots
from service.deps import EngineDep, MetricsDep, PrivateRead, StrictQuery, WriteAccess
from service.imports import import_upload
from service.schemas import (
    MAX_PAGE,
    OFFSET_PATTERN,
    AnswerPublic,
    AnswersPublic,
    AskRequest,
    EntriesCreate,
    EntriesPage,
    EntryId,
    EntryPublic,
    EntrySummary,
    ErrorPublic,
    FeedbackCreate,
    FeedbackPublic,
    IdsPublic,
    ImportProblem,
    ImportReport,
    OptionalText,
    QuestionsCreate,
    QuestionsDecided,
    QuestionText,
    Readiness,
    SourceCount,
    SourcesPublic,
    Status,
    SuggestionAccept,
    SuggestionAccepted,
    SuggestionPublic,
    SuggestionReject,
    SuggestionsPage,
    UnansweredGroupPublic,
    UnansweredPublic,
)

router = APIRouter()
MAX_GROUPS = 500

_ERRORS = {
    400: {"model": ErrorPublic, "description": "the body is not valid JSON (or not UTF-8)"},
    401: {"model": ErrorPublic, "description": "missing or wrong API key"},
    404: {"model": ErrorPublic, "description": "no entry with this id"},
    409: {"model": ErrorPublic, "description": "that is the entry's FAQ question"},
    413: {"model": ErrorPublic, "description": "the body is larger than FAQ_MAX_BODY_BYTES"},
    422: {"model": ErrorPublic, "description": "invalid request"},
    429: {"model": ErrorPublic, "description": "overloaded; retry after Retry-After seconds"},
    503: {"model": ErrorPublic, "description": "the store is unavailable"},
    507: {
        "model": ErrorPublic,
        "description": "the store's disk is short of space (FAQ_MIN_FREE_MB): the write was "
        "refused before it reached the store; reads go on",
    },
}


def _errors(*codes: int) -> dict[int | str, dict[str, object]]:
    return {code: _ERRORS[code] for code in codes}


@router.post("/ask", response_model=AnswersPublic, responses=_errors(400, 413, 422, 429, 503))
async def ask(body: AskRequest, engine: EngineDep, service_metrics: MetricsDep) -> AnswersPublic:
    """The best matching FAQ entries for a user's question, best first, each with the
    probability that it answers the question, and whether the service answers at all."""
    result = await engine.ask(
        body.question,
        body.top_k,
        body.filter.source if body.filter else None,
        body.score_threshold,
        body.min_confidence,
    )
    service_metrics.answered.labels(
        answered=str(result.decision.answered).lower(), reason=result.decision.reason or ""
    ).inc()
    if result.answers:
        service_metrics.confidence.observe(result.answers[0].confidence)
    return AnswersPublic(
        answered=result.decision.answered,
        reason=result.decision.reason,
        min_confidence=result.min_confidence,
        answers=[
            AnswerPublic(
                id=a.hit.entry.entry_id,
                question=a.hit.entry.question,
                answer=a.hit.entry.answer,
                source=a.hit.entry.source,
                score=a.hit.score,
                matched=a.hit.matched,
                matched_text=a.hit.matched_text,
                confidence=a.confidence,
            )
            for a in result.answers
        ],
    )


@router.post(
    "/answers",
    status_code=status.HTTP_201_CREATED,
    response_model=IdsPublic,
    dependencies=[WriteAccess],
    responses=_errors(400, 401, 413, 422, 429, 503, 507),
)
async def add_answers(body: EntriesCreate, engine: EngineDep) -> IdsPublic:
    """Add FAQ entries at runtime, searchable once this answers; no duplicates on a re-post.
    Posting an entry again replaces the alternate phrasings it came with; those added to it
    later (`POST /answers/{id}/questions`) stay."""
    entries = []
    for e in body.entries:
        questions = e.all_questions
        entry = FaqEntry(
            answer=e.answer, question=questions[0] if questions else None, source=e.source, id=e.id
        )
        entries.append(entry.with_phrasings([Phrasing(q) for q in questions[1:]]))
    return IdsPublic(ids=await engine.add(entries))


# The formats POST /import reads, as an upload declares them; any other type is read by the
# file's name and content (faq_core.sources.detect).
_IMPORT_TYPES = (
    "application/octet-stream",
    "text/html",
    "text/markdown",
    "text/csv",
    "text/tab-separated-values",
    "application/x-ndjson",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)


@router.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportReport,
    dependencies=[WriteAccess, StrictQuery],
    responses={
        **_errors(401, 422, 429, 503, 507),
        413: {
            "model": ErrorPublic,
            "description": "the file is larger than FAQ_IMPORT_MAX_BYTES, or holds more than "
            "FAQ_IMPORT_MAX_ENTRIES items, or a page or workbook unpacks past the limits",
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "the file's bytes as they are",
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}} for t in _IMPORT_TYPES
            },
        }
    },
)
async def import_file(
    request: Request,
    engine: EngineDep,
    filename: Annotated[
        str,
        Query(
            min_length=1,
            max_length=255,
            description="the file's name: its extension tells the format (.jsonl, .csv, .tsv, "
            ".xlsx, .md, .html), else the Content-Type and the content do",
        ),
    ] = "upload",
    source: Annotated[
        OptionalText | None,
        Query(description="the source of the entries of a page or Markdown file"),
    ] = None,
) -> ImportReport:
    """Import a file as `faq-index --data` reads it (JSON Lines, CSV, XLSX, a QnA Maker TSV
    export, Markdown or an FAQ web page): its entries are added or updated, searchable once
    this answers (201), and every row or item that could not be imported is listed with where
    it is. 422 when nothing could be imported, or the file is not an FAQ; 413 past the limits."""
    data = await request.body()
    if not data.strip():
        raise HTTPException(status_code=422, detail="the body is empty: send the file's bytes")
    result = await import_upload(
        engine, data, filename, request.headers.get("content-type"), source
    )
    if not result.ids:
        if not result.problems:
            raise DataFileError(filename, 0, "no entries")
        raise NothingImported(filename, result.problems)
    return ImportReport(
        format=result.imported.format.value,
        ids=result.ids,
        problems=[ImportProblem(where=p.where, reason=p.reason) for p in result.problems[:1000]],
        problem_count=len(result.problems),
    )


@router.post(
    "/answers/{entry_id}/questions",
    status_code=status.HTTP_201_CREATED,
    response_model=EntryPublic,
    dependencies=[WriteAccess],
    responses=_errors(400, 401, 404, 413, 422, 429, 503, 507),
)
async def add_questions(entry_id: EntryId, body: QuestionsCreate, engine: EngineDep) -> EntryPublic:
    """Add alternate phrasings to an entry's FAQ question: matched from the moment this
    answers (it answers once they are durable), with no retraining. A phrasing the entry has
    already changes nothing. 404 for an unknown entry; 422 past the questions an entry may have."""
    return _public(await engine.add_questions(entry_id, body.questions, reviewed=body.reviewed))


@router.delete(
    "/answers/{entry_id}/questions/{question:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[WriteAccess],
    responses=_errors(401, 404, 409, 503, 507),
)
async def delete_question(entry_id: EntryId, question: QuestionText, engine: EngineDep) -> Response:
    """Remove one alternate phrasing of an entry (the question URL-encoded; case and spacing
    do not matter). 404 when the entry or the phrasing is not there; 409 for the entry's own
    FAQ question, which only posting the entry again changes."""
    await engine.delete_question(entry_id, question)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/answers",
    response_model=EntriesPage,
    dependencies=[StrictQuery],
    responses=_errors(422, 503),
)
async def list_answers(
    engine: EngineDep,
    source: Annotated[OptionalText | None, Query(description="only this source's entries")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="entries per page")] = 50,
    offset: Annotated[
        str | None,
        Query(
            pattern=OFFSET_PATTERN,
            description="where the page starts: the `next_offset` of the previous page",
        ),
    ] = None,
) -> EntriesPage:
    """The FAQ's entries a page at a time, in the store's own stable order; follow `next_offset`
    until it is null."""
    entries, next_offset = await engine.page(limit, offset, source)
    return EntriesPage(entries=[_public(e) for e in entries], next_offset=next_offset)


@router.get("/sources", response_model=SourcesPublic, responses=_errors(503))
async def list_sources(engine: EngineDep) -> SourcesPublic:
    """How many entries the FAQ holds, and how many each source has."""
    total, by_source = await engine.count_by_source()
    ranked = sorted(by_source.items(), key=lambda item: (-item[1], item[0]))
    return SourcesPublic(
        total=total, sources=[SourceCount(source=name, count=n) for name, n in ranked]
    )


def _public(entry: FaqEntry) -> EntryPublic:
    return EntryPublic(
        id=entry.entry_id,
        question=entry.question,
        questions=list(entry.questions),
        answer=entry.answer,
        source=entry.source,
    )


@router.get("/answers/{entry_id}", response_model=EntryPublic, responses=_errors(404, 503))
async def get_answer(entry_id: EntryId, engine: EngineDep) -> EntryPublic:
    return _public(await engine.get(entry_id))


@router.delete(
    "/answers/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[WriteAccess],
    responses=_errors(401, 404, 503, 507),
)
async def delete_answer(entry_id: EntryId, engine: EngineDep) -> Response:
    await engine.delete(entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackPublic,
    dependencies=[WriteAccess],
    responses=_errors(400, 401, 404, 413, 422, 503, 507),
)
async def add_feedback(
    body: FeedbackCreate, engine: EngineDep, service_metrics: MetricsDep
) -> FeedbackPublic:
    """Record whether an answer helped: stored durably before this answers, for retraining
    (`faq-feedback export`). 404 when no entry has `answer_id`."""
    event = await engine.record_feedback(
        body.question,
        body.answer_id,
        body.helpful,
        comment=body.comment,
        conversation_id=body.conversation_id,
    )
    service_metrics.feedback.labels(helpful=str(body.helpful).lower()).inc()
    return FeedbackPublic(id=event.id, created_at=event.created_at)


@router.get(
    "/unanswered",
    response_model=UnansweredPublic,
    dependencies=[PrivateRead, StrictQuery],
    responses=_errors(401, 422, 503),
)
async def unanswered(
    engine: EngineDep,
    since: Annotated[
        datetime | None, Query(description="only questions asked since then (ISO 8601)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_GROUPS, description="groups at most")] = 50,
    source: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=2000,
            description="only questions asked with this source filter, or, asked without "
            "one, whose best candidate is from this source",
        ),
    ] = None,
) -> UnansweredPublic:
    """The questions the FAQ could not answer (answered false, or an answer marked unhelpful),
    near-duplicates grouped with the model's own embeddings; open groups first, biggest first.
    Users' own words: needs the API key whenever FAQ_API_KEY is set."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    groups = await engine.unanswered_groups(since, source, limit)
    return UnansweredPublic(groups=[UnansweredGroupPublic(**g.as_json()) for g in groups])


@router.delete(
    "/unanswered",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[PrivateRead],
    responses=_errors(401, 503),
)
async def clear_unanswered(engine: EngineDep) -> Response:
    """Forget every unanswered question kept so far."""
    await engine.clear_unanswered()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/suggestions",
    response_model=SuggestionsPage,
    dependencies=[PrivateRead, StrictQuery],
    responses=_errors(401, 422, 503),
)
async def list_suggestions(
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=MAX_GROUPS, description="suggestions at most")] = 50,
    offset: Annotated[int, Query(ge=0, description="the `next_offset` of the previous page")] = 0,
) -> SuggestionsPage:
    """Users' questions proposed as phrasings of entries, grouped by entry and by meaning,
    biggest first: unanswered questions whose closest entry is plausible, entries users chose
    that were not given, the other of two close entries a user turned one down of. Users' own
    words: needs the API key whenever FAQ_API_KEY is set."""
    suggestions, entries = await engine.suggestions()
    page = suggestions[offset : offset + limit]
    end = offset + len(page)
    return SuggestionsPage(
        suggestions=[
            SuggestionPublic(
                id=s.id,
                entry_id=s.entry_id,
                entry=EntrySummary(
                    question=entries[s.entry_id].question,
                    answer=entries[s.entry_id].answer,
                    source=entries[s.entry_id].source,
                ),
                questions=s.questions,
                count=s.count,
                reasons=s.reasons,
                first_seen=s.first_seen,
                last_seen=s.last_seen,
            )
            for s in page
        ],
        next_offset=end if end < len(suggestions) else None,
    )


@router.post(
    "/suggestions/{suggestion_id}/accept",
    response_model=SuggestionAccepted,
    dependencies=[WriteAccess],
    responses=_errors(400, 401, 404, 413, 422, 429, 503, 507),
)
async def accept_suggestion(
    suggestion_id: EntryId, engine: EngineDep, body: SuggestionAccept | None = None
) -> SuggestionAccepted:
    """Attach the suggestion's questions (or those named) to its entry (or to `entry_id`):
    matched at once, with no retraining; the unanswered questions they came from are then
    answered. Kept as reviews, which recalibrate when to answer."""
    body = body or SuggestionAccept()
    entry, attached = await engine.accept_suggestion(suggestion_id, body.entry_id, body.questions)
    return SuggestionAccepted(entry=_public(entry), questions=attached)


@router.post(
    "/suggestions/{suggestion_id}/reject",
    response_model=QuestionsDecided,
    dependencies=[WriteAccess],
    responses=_errors(400, 401, 404, 413, 422, 503, 507),
)
async def reject_suggestion(
    suggestion_id: EntryId, engine: EngineDep, body: SuggestionReject | None = None
) -> QuestionsDecided:
    """The suggestion's questions (or those named) do not belong to its entry: never proposed
    for it again. The rest of the suggestion stays."""
    body = body or SuggestionReject()
    return QuestionsDecided(questions=await engine.reject_suggestion(suggestion_id, body.questions))


@router.get(
    "/export",
    dependencies=[PrivateRead, StrictQuery],
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/x-ndjson": {}}, "description": "the export, streamed"},
        **_errors(401, 422, 503),
    },
)
async def export(
    engine: EngineDep,
    vectors: Annotated[
        bool, Query(description="with the float32 vectors (restore needs no model)")
    ] = True,
) -> StreamingResponse:
    """Everything the deployment holds that cannot be rebuilt, as `faq-store export` writes it
    (JSON Lines: a header, the entries and phrasings, the records of every log, an end record
    with the counts). A stream without its end record was cut short. Users' own words: keyed."""
    chunks = engine.export(vectors=vectors)
    # The header first, so that a store that cannot be read answers 503, not a broken stream.
    first = await anext(chunks)

    async def stream() -> AsyncIterator[bytes]:
        try:
            yield first
            async for chunk in chunks:
                yield chunk
        finally:
            await chunks.aclose()  # a client gone: let the generation go now, not at collection

    return StreamingResponse(
        stream(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="faq-export.jsonl"'},
    )


@router.get("/healthz", response_model=Status)
async def healthz() -> Status:
    """The process is alive."""
    return Status(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Status}})
async def readyz(engine: EngineDep) -> Readiness | JSONResponse:
    """The model is loaded and the store answers. `writes` says whether writes are taken: a
    disk short of space refuses them (507) while reads go on, so the service stays ready."""
    try:
        await engine.check_ready()
    except FaqError as exc:
        return JSONResponse(
            Status(status="not ready", reason=str(exc)).model_dump(), status_code=503
        )
    refusal = engine.backend.write_refusal()
    return Readiness(status="ok", writes="ok" if refusal is None else f"refused: {refusal}")


@router.get("/manifest")
async def manifest(engine: EngineDep) -> dict[str, object]:
    """The servable's provenance: base model, data checksums, training settings, metrics, its
    confidence model (`confidence.min_confidence`: the operating point /ask answers at unless
    told otherwise); the collection version it is serving: where the store is, how many
    entries it holds (null while the store is unavailable), whether this service created it
    empty; which encoder path it runs (`quantize`: FAQ_QUANTIZE, the path chosen and why); and
    the plots served at `/model/plots/{name}.png`."""
    servable = engine.servable
    return {
        "model_id": servable.model_id,
        "index": {
            "collection": engine.settings.collection,
            "version": engine.version,
            "store": engine.backend.location,
            "entries": await engine.entry_count(),
            "created_empty": engine.created_empty,
        },
        "plots": available_plots(engine.settings.model_path),
        "calibration": engine.calibration.record(
            engine.servable_point(), engine.settings.min_confidence
        ),
        **({"quantize": servable.quantize.record()} if servable.quantize else {}),
        **servable.manifest,
    }


@router.get("/metrics", include_in_schema=False)
async def metrics(service_metrics: MetricsDep) -> Response:
    """Prometheus text format."""
    return Response(generate_latest(service_metrics.registry), media_type=CONTENT_TYPE_LATEST)
