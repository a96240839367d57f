"""Export the unanswered questions of a collection, grouped, as JSON Lines: one group a line, in
the order `GET /unanswered` gives (open groups first, biggest first), each marked `resolved`
when the live version answers its most frequent question now.

It loads the servable the collection is served by (to group questions it has no vector of, and
to ask the groups' questions). The embedded store can be open in one process only: stop
faq-serve before exporting from it (there is no such limit with a Qdrant server).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from faq_core.answering import Confidence
from faq_core.confidence import DEPTH, decide
from faq_core.servable import serving_model
from faq_core.settings import Settings
from faq_core.store import SearchRequest, layout_for, open_backend
from faq_core.unanswered import (
    UNANSWERED_LOG,
    UnansweredQuestion,
    group,
    ordered,
    question_vectors,
    select,
)
from feedback.export import write_json_lines


@dataclass(frozen=True)
class UnansweredSummary:
    collection: str
    out: str
    questions: int  # records selected (since, source)
    groups: int
    resolved: int

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def export_unanswered(
    settings: Settings, out: Path, *, since: datetime | None = None, source: str | None = None
) -> UnansweredSummary:
    backend = open_backend(settings)
    try:
        records = backend.record_log(UNANSWERED_LOG, UnansweredQuestion).records()
        chosen = select(records, since, source)
        groups = []
        if chosen:
            servable = serving_model(settings)
            table, missing = question_vectors(chosen, servable.model_id)
            table.update(zip(missing, servable.encode(missing), strict=True))
            groups = group(chosen, lambda questions: np.stack([table[q] for q in questions]))
            layout = layout_for(settings, dim=servable.dim, model_id=servable.model_id)
            _, store = backend.catalog.open_live(layout)
            try:
                found = store.search_each(
                    [SearchRequest(table[g.questions[0]], DEPTH, source) for g in groups]
                )
            finally:
                store.close()
            confidence = Confidence.of_servable(servable)
            point = confidence.operating_point(settings.min_confidence)
            for g, hits in zip(groups, found, strict=True):
                ranked = confidence.rank(hits)
                g.resolved = decide([a.confidence for a in ranked], point).answered
        groups = ordered(groups)
        # Users' own words: readable by the owner only.
        write_json_lines(out, [g.as_json() for g in groups], mode=0o600)
    finally:
        backend.close()
    return UnansweredSummary(
        collection=settings.collection,
        out=str(out),
        questions=len(chosen),
        groups=len(groups),
        resolved=sum(g.resolved for g in groups),
    )
