"""The service keeps the embedded store from growing while it takes writes (`maintain`)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from faq_core.settings import Settings
from service.app import create_app
from tests.support.churn import churn, closed_log_segments


def test_the_watcher_maintains_the_store_after_writes_through_the_api(
    app_settings: Settings,
) -> None:
    settings = app_settings.model_copy(update={"watch_interval_s": 0.1})
    with TestClient(create_app(settings)) as client:
        engine = client.app.state.engine  # type: ignore[attr-defined]
        assert engine.store is not None
        # Volume the service did not write: its watcher has no reason to act on it.
        churn(engine.store, 24_000, engine.servable.dim)
        time.sleep(0.5)
        assert len(closed_log_segments(settings.store_path)) >= 2

        added = client.post("/answers", json={"entries": [{"answer": "Restart the router."}]})
        assert added.status_code == 201
        assert client.delete(f"/answers/{added.json()['ids'][0]}").status_code == 204
        deadline = time.monotonic() + 10
        while len(closed_log_segments(settings.store_path)) > 1:
            assert time.monotonic() < deadline, closed_log_segments(settings.store_path)
            time.sleep(0.1)
        assert client.get("/readyz").status_code == 200
