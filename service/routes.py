"""The HTTP contract of docs/design.md. Handlers validate, call the engine, shape the answer."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from faq_core.entries import FaqEntry
from faq_core.errors import FaqError
from service.deps import EngineDep, MetricsDep, WriteAccess
from service.schemas import (
    AnswerPublic,
    AnswersPublic,
    AskRequest,
    EntriesCreate,
    EntryId,
    EntryPublic,
    ErrorPublic,
    FeedbackCreate,
    FeedbackPublic,
    IdsPublic,
    Status,
)

router = APIRouter()

_ERRORS = {
    400: {"model": ErrorPublic, "description": "the body is not valid JSON (or not UTF-8)"},
    401: {"model": ErrorPublic, "description": "missing or wrong API key"},
    404: {"model": ErrorPublic, "description": "no entry with this id"},
    413: {"model": ErrorPublic, "description": "the body is larger than FAQ_MAX_BODY_BYTES"},
    422: {"model": ErrorPublic, "description": "invalid request"},
    429: {"model": ErrorPublic, "description": "overloaded; retry after Retry-After seconds"},
    503: {"model": ErrorPublic, "description": "the store is unavailable"},
}


def _errors(*codes: int) -> dict[int | str, dict[str, object]]:
    return {code: _ERRORS[code] for code in codes}


@router.post("/ask", response_model=AnswersPublic, responses=_errors(400, 413, 422, 429, 503))
async def ask(body: AskRequest, engine: EngineDep) -> AnswersPublic:
    """The best matching FAQ entries for a user's question, best first."""
    hits = await engine.ask(
        body.question,
        body.top_k,
        body.filter.source if body.filter else None,
        body.score_threshold,
    )
    return AnswersPublic(
        answers=[
            AnswerPublic(
                id=hit.entry.entry_id,
                question=hit.entry.question,
                answer=hit.entry.answer,
                source=hit.entry.source,
                score=hit.score,
                matched=hit.matched,
            )
            for hit in hits
        ]
    )


@router.post(
    "/answers",
    status_code=status.HTTP_201_CREATED,
    response_model=IdsPublic,
    dependencies=[WriteAccess],
    responses=_errors(400, 401, 413, 422, 429, 503),
)
async def add_answers(body: EntriesCreate, engine: EngineDep) -> IdsPublic:
    """Add FAQ entries at runtime, searchable once this answers; no duplicates on a re-post."""
    entries = [
        FaqEntry(answer=e.answer, question=e.question, source=e.source, id=e.id)
        for e in body.entries
    ]
    return IdsPublic(ids=await engine.add(entries))


@router.get("/answers/{entry_id}", response_model=EntryPublic, responses=_errors(404, 503))
async def get_answer(entry_id: EntryId, engine: EngineDep) -> EntryPublic:
    entry = await engine.get(entry_id)
    return EntryPublic(
        id=entry.entry_id, question=entry.question, answer=entry.answer, source=entry.source
    )


@router.delete(
    "/answers/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[WriteAccess],
    responses=_errors(401, 404, 503),
)
async def delete_answer(entry_id: EntryId, engine: EngineDep) -> Response:
    await engine.delete(entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackPublic,
    dependencies=[WriteAccess],
    responses=_errors(400, 401, 404, 413, 422, 503),
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


@router.get("/healthz", response_model=Status)
async def healthz() -> Status:
    """The process is alive."""
    return Status(status="ok")


@router.get("/readyz", response_model=Status, responses={503: {"model": Status}})
async def readyz(engine: EngineDep) -> Status | JSONResponse:
    """The model is loaded and the store answers."""
    try:
        await engine.check_ready()
    except FaqError as exc:
        return JSONResponse(
            Status(status="not ready", reason=str(exc)).model_dump(), status_code=503
        )
    return Status(status="ok")


@router.get("/manifest")
async def manifest(engine: EngineDep) -> dict[str, object]:
    """The servable's provenance: base model, data checksums, training settings, metrics, threshold
    (a first answer scoring below `threshold.score` is not a confident answer), and the collection
    version it is serving."""
    return {
        "model_id": engine.servable.model_id,
        "index": {"collection": engine.settings.collection, "version": engine.version},
        **engine.servable.manifest,
    }


@router.get("/metrics", include_in_schema=False)
async def metrics(service_metrics: MetricsDep) -> Response:
    """Prometheus text format."""
    return Response(generate_latest(service_metrics.registry), media_type=CONTENT_TYPE_LATEST)
