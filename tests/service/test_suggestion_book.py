"""What the suggestion book keeps of decisions: the users' words for the unanswered log's
retention, the rejected pairs' digests for good. Real record logs of the embedded store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from faq_core.reviews import Rejection, Review, pair_digest
from faq_core.settings import Settings
from faq_core.store.edge import FileRecordLog
from service.suggestion_book import SuggestionBook


def test_reviews_past_retention_are_dropped_and_rejections_kept(tmp_path: Path) -> None:
    reviews = FileRecordLog(tmp_path / "faq.reviews.jsonl", Review)
    rejections = FileRecordLog(tmp_path / "faq.rejections.jsonl", Rejection)
    old = (datetime.now(UTC) - timedelta(days=40)).isoformat().replace("+00:00", "Z")
    reviews.append(Review("an old question", "rejected", "e1", created_at=old))
    rejections.append(Rejection(pair_digest("an old question", "e1"), created_at=old))
    book = SuggestionBook(reviews, rejections, Settings(unanswered_retention_days=30))
    asyncio.run(
        book.record(
            ["a new question"],
            "rejected",
            "e2",
            suggested="e2",
            model_id="m",
            vectors=np.ones((1, 4), dtype=np.float32) / 2,
        )
    )
    assert [r.question for r in reviews.records()] == ["a new question"]
    assert [r.pair for r in rejections.records()] == [
        pair_digest("an old question", "e1"),
        pair_digest("a new question", "e2"),
    ]
    assert "question" not in rejections.path.read_text()  # no users' words, only digests
