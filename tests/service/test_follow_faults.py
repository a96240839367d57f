"""The service following a re-index, with a failure injected on each side of its point of no
return (installing the new generation), into the real embedded store and the real carry.

Before it, the new version's store must be closed again, so that its lock is free; after it,
the old generation must still be retired and closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from faq_core.servable import Servable
from faq_core.settings import Settings
from faq_core.store import AnswerStore, open_backend
from indexer.run import run_index
from service import engine as engine_module
from service.app import create_app
from service.engine import AnswerEngine

QUESTION = "how do i delete a project?"


class Injected(Exception):
    """The failure a test injects."""


@pytest.fixture
def served(app_settings: Settings) -> Iterator[tuple[TestClient, AnswerEngine, Settings]]:
    # The tests run the watcher's rounds themselves.
    settings = app_settings.model_copy(update={"watch_interval_s": 3600})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, client.app.state.engine, settings  # type: ignore[attr-defined]


def re_index(settings: Settings, servable: Servable, faq_slice: Path) -> str:
    """A new live version beside the one the service reads; returns its name."""
    return run_index(faq_slice, settings, servable, progress=False).version


def add_entry(client: TestClient) -> str:
    """An entry added at runtime, which each carry brings along."""
    added = client.post(
        "/answers", json={"entries": [{"answer": "we are closed on public holidays."}]}
    )
    assert added.status_code == 201, added.text
    (added_id,) = added.json()["ids"]
    return str(added_id)


def can_be_opened_elsewhere(settings: Settings, version: str) -> bool:
    """Whether a second store on `version` gets its lock, as another process would."""
    store = open_backend(settings).catalog.store(version)
    try:
        store.ping()
    except Exception:
        return False
    finally:
        store.close()
    return True


def fail_on_call(monkeypatch: pytest.MonkeyPatch, number: int) -> None:
    """The engine's `number`-th carry (1: before the install, 2: after it) does its work and
    then raises."""
    real_carry = engine_module.carry_runtime_entries
    calls = [0]

    def carry(*args: Any, **kwargs: Any) -> int:
        calls[0] += 1
        carried = real_carry(*args, **kwargs)
        if calls[0] == number:
            raise Injected(f"carry {number} failed")
        return carried

    monkeypatch.setattr(engine_module, "carry_runtime_entries", carry)


def fail_after_loading(monkeypatch: pytest.MonkeyPatch, store: AnswerStore, version: str) -> None:
    """Opening `version` loads its shard (and takes its lock), then fails."""
    store_type = type(store)
    real_ping = store_type.ping

    def ping(self: AnswerStore) -> None:
        real_ping(self)
        if self.name == version:
            raise Injected("opening the new version failed")

    monkeypatch.setattr(store_type, "ping", ping)


@pytest.mark.parametrize("phase", ["opening", "carrying"])
def test_a_failure_before_the_install_closes_the_new_store_and_keeps_serving_the_old(
    served: tuple[TestClient, AnswerEngine, Settings],
    servable: Servable,
    faq_slice: Path,
    monkeypatch: pytest.MonkeyPatch,
    phase: str,
) -> None:
    client, engine, settings = served
    old_version = engine.version
    assert old_version is not None
    added_id = add_entry(client)  # so that the carry writes into the new version's shard
    new_version = re_index(settings, servable, faq_slice)
    if phase == "opening":
        assert engine.store is not None
        fail_after_loading(monkeypatch, engine.store, new_version)
    else:
        fail_on_call(monkeypatch, 1)

    with pytest.raises(Injected):
        client.portal.call(engine.check_once)
    monkeypatch.undo()

    assert engine.version == old_version
    assert client.post("/ask", json={"question": QUESTION}).status_code == 200
    assert can_be_opened_elsewhere(settings, new_version)  # its lock was released
    client.portal.call(engine.check_once)  # the next round follows
    assert engine.version == new_version
    assert client.post("/ask", json={"question": QUESTION}).status_code == 200
    assert client.get(f"/answers/{added_id}").status_code == 200


def test_a_failure_after_the_install_serves_the_new_version_and_closes_the_old(
    served: tuple[TestClient, AnswerEngine, Settings],
    servable: Servable,
    faq_slice: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, engine, settings = served
    old_version = engine.version
    assert old_version is not None
    added_id = add_entry(client)
    assert not can_be_opened_elsewhere(settings, old_version)  # the service holds it
    new_version = re_index(settings, servable, faq_slice)
    fail_on_call(monkeypatch, 2)

    with pytest.raises(Injected):
        client.portal.call(engine.check_once)
    monkeypatch.undo()

    assert engine.version == new_version
    assert can_be_opened_elsewhere(settings, old_version)  # retired and closed
    assert client.post("/ask", json={"question": QUESTION}).status_code == 200
    assert client.get(f"/answers/{added_id}").status_code == 200  # carried before the install
