"""What `/ask` answers: the entries found, each with its confidence, and the decision."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from faq_core.confidence import ConfidenceModel, Decision
from faq_core.servable import Servable
from faq_core.store import Hit
from faq_core.store.base import ANSWER, QUESTION

log = logging.getLogger(__name__)

# A servable from before the confidence model says nothing better: the operating point of a
# plain cosine score is then its recorded score threshold, or this.
_UNCALIBRATED_MIN = 0.5


@dataclass(frozen=True)
class Answer:
    hit: Hit
    confidence: float


@dataclass(frozen=True)
class AskResult:
    answers: list[Answer]  # best first, at most top_k, those under score_threshold left out
    decision: Decision
    min_confidence: float  # the operating point the decision was made at


@dataclass(frozen=True)
class Confidence:
    """A servable's confidences: its fitted model, or, for a servable made before there was
    one, the cosine score itself (clipped to 0..1) at its recorded score threshold."""

    model: ConfidenceModel | None
    min_confidence: float

    @classmethod
    def of_servable(cls, servable: Servable) -> Confidence:
        model = servable.confidence_model
        if model is not None:
            return cls(model, model.min_confidence)
        threshold = servable.score_threshold
        log.warning(
            "servable %s has no confidence model (trained before it existed): confidence is the "
            "raw score; re-train it with faq-train for calibrated confidences",
            servable.model_id,
        )
        return cls(None, threshold if threshold is not None else _UNCALIBRATED_MIN)

    def operating_point(self, configured: float | None) -> float:
        """The confidence an answer needs: `configured` (a request's or FAQ_MIN_CONFIDENCE)
        where given, 0 included, else the servable's own."""
        return configured if configured is not None else self.min_confidence

    def rank(self, hits: Sequence[Hit]) -> list[Answer]:
        """The entries found with the probability that each answers the question, most likely
        first (`ConfidenceModel.rank`)."""
        if self.model is None:
            return [Answer(hit, min(1.0, max(0.0, hit.score))) for hit in hits]
        order, confidences = self.model.rank(
            [(hit.scores.get(ANSWER), hit.scores.get(QUESTION)) for hit in hits]
        )
        return [Answer(hits[i], float(c)) for i, c in zip(order, confidences, strict=True)]
