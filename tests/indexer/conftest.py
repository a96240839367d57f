"""The indexer's tests: faq-index run as a command, its settings from the environment."""

from __future__ import annotations

import pytest

from faq_core.settings import Settings


@pytest.fixture
def index_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    """faq-index's environment pointing at the test's store and the trained servable."""
    monkeypatch.setenv("FAQ_MODEL_PATH", str(settings.model_path))
    monkeypatch.setenv("FAQ_STORE_PATH", str(settings.store_path))
    monkeypatch.setenv("FAQ_COLLECTION", settings.collection)
    monkeypatch.setenv("FAQ_DEVICE", "cpu")
    monkeypatch.delenv("FAQ_QDRANT_URL", raising=False)
    return settings
