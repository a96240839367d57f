"""The operating point this deployment refits on its reviewed questions.

The reviews log (faq_core.reviews) says, for each question a person decided, which entry answers
it or that none did. Each is asked again against the collection as it is now, as if it were new:
its own phrasing left out when it was attached, and the entry written for it left out when one
was; the first entry's confidence and whether it is the reviewer's entry make an outcome, and
faq_core.calibration fits the operating point on them. Refitted when the reviews or the serving
generation change: after a decision here, and every FAQ_CALIBRATION_INTERVAL_S for decisions
made by another replica.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import numpy as np

from faq_core.answering import Confidence
from faq_core.calibration import Calibration, CalibrationPolicy
from faq_core.records import RecordLog, utc_now
from faq_core.reviews import Review, review_outcomes, review_request
from faq_core.settings import Settings
from faq_core.store import AnswerStore
from faq_core.unanswered import unpack_vector

log = logging.getLogger(__name__)
# Reviewed questions searched at once while refitting, so that requests get the store in between.
SEARCH_CHUNK = 128

Encode = Callable[[list[str]], Awaitable[np.ndarray]]


class CalibrationBook:
    def __init__(self, reviews: RecordLog[Review], settings: Settings) -> None:
        self.reviews = reviews
        self.enabled = settings.calibrate
        self._min_reviewed = settings.calibration_min_reviewed
        self.current: Calibration | None = None
        self.fitted_at: str | None = None
        self._reviews = 0  # in the log at the last fit
        self._fitted_for: tuple[Any, ...] | None = None
        self._lock = asyncio.Lock()

    def point(self) -> float | None:
        """The refitted operating point, when calibrating and there is one."""
        if not self.enabled or self.current is None:
            return None
        return self.current.min_confidence

    async def refit(
        self,
        generation_id: int,
        store: AnswerStore,
        confidence: Confidence,
        model_id: str,
        encode: Encode,
        *,
        force: bool = False,
    ) -> None:
        """Fit again when the reviews or the generation changed since the last fit."""
        if not self.enabled:
            return
        async with self._lock:
            reviews = await asyncio.to_thread(self.reviews.records)
            signature = (generation_id, len(reviews), reviews[-1].id if reviews else None)
            if signature == self._fitted_for and not force:
                return
            vectors = await self._vectors(reviews, model_id, encode)
            found: list[Any] = []
            for start in range(0, len(reviews), SEARCH_CHUNK):
                chunk = [
                    review_request(r, v)
                    for r, v in zip(
                        reviews[start : start + SEARCH_CHUNK],
                        vectors[start : start + SEARCH_CHUNK],
                        strict=True,
                    )
                ]
                found += await asyncio.to_thread(store.search_each, chunk)
            model = confidence.model
            policy = CalibrationPolicy(
                target_precision=model.target_precision if model else 0.9,
                min_reviewed=self._min_reviewed,
            )
            fitted = policy.fit(
                review_outcomes(reviews, found, confidence),
                current=model.min_confidence if model else None,
            )
            if self.current is None or fitted.min_confidence != self.current.min_confidence:
                log.info(
                    "operating point for this FAQ: %s (%s)",
                    "the servable's" if fitted.min_confidence is None else fitted.min_confidence,
                    fitted.reason,
                )
            self.current, self._fitted_for, self.fitted_at = fitted, signature, utc_now()
            self._reviews = len(reviews)

    @staticmethod
    async def _vectors(reviews: Sequence[Review], model_id: str, encode: Encode) -> np.ndarray:
        """The reviewed questions' vectors by the servable answering now: kept ones where it
        made them, the others encoded."""
        rows: list[np.ndarray | None] = [
            unpack_vector(r.vector) if r.vector is not None and r.model_id == model_id else None
            for r in reviews
        ]
        missing = [i for i, row in enumerate(rows) if row is None]
        if missing:
            encoded = await encode([reviews[i].question for i in missing])
            for i, vector in zip(missing, encoded, strict=True):
                rows[i] = vector
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([np.asarray(row, dtype=np.float32) for row in rows])

    def record(self, servable_point: float, configured: float | None) -> dict[str, Any]:
        """What /manifest shows: the point /ask answers at by default and why, and the fit."""
        fitted = self.current
        calibrated = self.point()
        if configured is not None:
            using, why = configured, "FAQ_MIN_CONFIDENCE"
        elif calibrated is not None:
            using, why = calibrated, "calibrated on this FAQ's reviewed questions"
        else:
            using, why = servable_point, "the servable's operating point"
        return {
            "enabled": self.enabled,
            "min_confidence": using,
            "why": why,
            "servable_min_confidence": servable_point,
            "min_reviewed": self._min_reviewed,
            "fit": None
            if fitted is None
            else {
                "min_confidence": fitted.min_confidence,
                # Reviews in the log; a rejection tells nothing once its entry no longer comes
                # first, so fewer of them may be `reviewed` questions fitted on.
                "reviews": self._reviews,
                "reviewed": fitted.reviewed,
                "answered": fitted.answered,
                "precision": None if fitted.precision is None else round(fitted.precision, 4),
                "reason": fitted.reason,
                "fitted_at": self.fitted_at,
            },
        }
