"""faq-index's point of no return: a failure in each phase of a re-index, injected into the real
stores by making one of their real methods raise.

Before the switch the live version must stay as it was and the new one must be gone; after the
switch the new version must be live, complete, and never dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from faq_core.encoding import encode_entries
from faq_core.entries import ORIGIN_KEY, RUNTIME_ORIGIN, FaqEntry
from faq_core.servable import Servable
from faq_core.settings import Settings
from faq_core.sources import read_entries
from faq_core.store import Catalog, open_backend
from indexer import run as indexer_run
from indexer.run import run_index
from tests.conftest import open_live_store

LINES = 12
RUNTIME = FaqEntry(
    answer="the office is closed on public holidays.",
    source="api",
    extra={ORIGIN_KEY: RUNTIME_ORIGIN},
)


class Injected(Exception):
    """The failure a test injects."""


@pytest.fixture
def indexed(tmp_path: Path, val_file: Path, settings: Settings, servable: Servable) -> Path:
    """A live version of LINES entries and one entry added at runtime (as POST /answers would)."""
    with val_file.open() as handle:
        path = tmp_path / "faq.jsonl"
        path.write_text("".join(next(handle) for _ in range(LINES)))
    run_index(path, settings, servable, progress=False)
    store = open_live_store(settings, servable)
    try:
        store.upsert(encode_entries(servable, [RUNTIME]))
    finally:
        store.close()
    return path


def entry_ids(path: Path) -> set[str]:
    return {e.entry_id for e in read_entries(path, require_question=False)} | {RUNTIME.entry_id}


def held_ids(settings: Settings, servable: Servable) -> set[str]:
    """Every entry id the live version holds, read through a fresh open, as the service would."""
    store = open_live_store(settings, servable)
    try:
        return {e.entry_id for e in store.entries()}
    finally:
        store.close()


def fail_with(exc: BaseException) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return fail


def store_class(settings: Settings) -> type:
    catalog = open_backend(settings).catalog
    live = catalog.live()
    assert live is not None
    return type(catalog.store(live))


# ---- before the switch: the new version is dropped, the live one stays --------------------------


@pytest.mark.parametrize(
    ("method", "exc"),
    [
        ("optimize", Injected("optimize failed")),  # the last step of the build
        ("upsert", KeyboardInterrupt()),  # Ctrl-C while filling the new version
    ],
    ids=["build-fails", "build-interrupted"],
)
def test_a_failure_while_building_drops_the_new_version_and_leaves_the_live_one(
    indexed: Path,
    settings: Settings,
    servable: Servable,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    exc: BaseException,
) -> None:
    catalog = open_backend(settings).catalog
    live_before = catalog.live()
    versions_before = catalog.versions()
    monkeypatch.setattr(store_class(settings), method, fail_with(exc))

    with pytest.raises(type(exc)):
        run_index(indexed, settings, servable, progress=False)
    monkeypatch.undo()

    assert catalog.live() == live_before
    assert catalog.versions() == versions_before  # the new version is gone
    assert held_ids(settings, servable) == entry_ids(indexed)


def test_a_switch_that_fails_before_taking_effect_drops_the_new_version(
    indexed: Path, settings: Settings, servable: Servable, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = open_backend(settings).catalog
    live_before = catalog.live()
    versions_before = catalog.versions()
    monkeypatch.setattr(type(catalog), "switch", fail_with(OSError("no space left on device")))

    with pytest.raises(OSError, match="no space"):
        run_index(indexed, settings, servable, progress=False)
    monkeypatch.undo()

    assert catalog.live() == live_before
    assert catalog.versions() == versions_before
    assert held_ids(settings, servable) == entry_ids(indexed)


# ---- after the switch: the new version is live and stays -------------------------------------


def switch_then(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> dict[str, str]:
    """Record the version the real switch makes live."""
    catalog_type = type(open_backend(settings).catalog)
    real_switch = catalog_type.switch
    switched: dict[str, str] = {}

    def switch(self: Catalog, version: str) -> None:
        real_switch(self, version)
        switched["version"] = version

    monkeypatch.setattr(catalog_type, "switch", switch)
    return switched


def assert_new_version_live_and_intact(
    settings: Settings, servable: Servable, indexed: Path, live_before: str, new: str
) -> None:
    catalog = open_backend(settings).catalog
    assert catalog.live() == new != live_before
    assert catalog.versions() == sorted([live_before, new])  # nothing dropped, nothing pruned
    assert held_ids(settings, servable) == entry_ids(indexed)
    store = open_live_store(settings, servable)
    try:
        [hit] = store.search(servable.encode([RUNTIME.answer])[0], 1)
        assert hit.entry.entry_id == RUNTIME.entry_id  # its vectors came along
    finally:
        store.close()


def test_a_switch_that_took_effect_but_raised_keeps_the_new_version(
    indexed: Path, settings: Settings, servable: Servable, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog_type = type(open_backend(settings).catalog)
    real_switch = catalog_type.switch
    switched: dict[str, str] = {}

    def switch(self: Catalog, version: str) -> None:
        real_switch(self, version)
        switched["version"] = version
        raise OSError("the directory sync failed after the rename")

    monkeypatch.setattr(catalog_type, "switch", switch)
    live_before = open_backend(settings).catalog.live()
    assert live_before is not None

    with pytest.raises(OSError, match="directory sync"):
        run_index(indexed, settings, servable, progress=False)
    monkeypatch.undo()

    assert_new_version_live_and_intact(
        settings, servable, indexed, live_before, switched["version"]
    )


@pytest.mark.parametrize(
    "exc", [Injected("carry failed"), KeyboardInterrupt()], ids=["fails", "interrupted"]
)
def test_a_failure_in_the_carry_after_the_switch_keeps_the_new_version_live(
    indexed: Path,
    settings: Settings,
    servable: Servable,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    exc: BaseException,
) -> None:
    switched = switch_then(monkeypatch, settings)
    real_carry = indexer_run.carry_runtime_entries

    def carry(*args: Any, **kwargs: Any) -> int:
        if switched:  # the carry after the switch
            raise exc
        return real_carry(*args, **kwargs)

    monkeypatch.setattr(indexer_run, "carry_runtime_entries", carry)
    live_before = open_backend(settings).catalog.live()
    assert live_before is not None

    with pytest.raises(type(exc)):
        run_index(indexed, settings, servable, progress=False)
    monkeypatch.undo()

    assert_new_version_live_and_intact(
        settings, servable, indexed, live_before, switched["version"]
    )
    assert f"version {switched['version']} is live" in caplog.text
    assert f"the previous version {live_before} is kept" in caplog.text


def test_an_interrupt_while_counting_after_the_switch_keeps_the_new_version_live(
    indexed: Path, settings: Settings, servable: Servable, monkeypatch: pytest.MonkeyPatch
) -> None:
    switched = switch_then(monkeypatch, settings)
    cls = store_class(settings)
    real_count = cls.count

    def count(self: Any) -> int:
        if switched:
            raise KeyboardInterrupt
        return int(real_count(self))

    monkeypatch.setattr(cls, "count", count)
    live_before = open_backend(settings).catalog.live()
    assert live_before is not None

    with pytest.raises(KeyboardInterrupt):
        run_index(indexed, settings, servable, progress=False)
    monkeypatch.undo()

    assert_new_version_live_and_intact(
        settings, servable, indexed, live_before, switched["version"]
    )


def test_a_run_after_a_failed_one_prunes_what_it_left(
    indexed: Path, settings: Settings, servable: Servable, monkeypatch: pytest.MonkeyPatch
) -> None:
    switched = switch_then(monkeypatch, settings)
    cls = store_class(settings)
    real_count = cls.count

    def count(self: Any) -> int:
        if switched:
            raise Injected("count failed")
        return int(real_count(self))

    monkeypatch.setattr(cls, "count", count)
    first_live = open_backend(settings).catalog.live()
    with pytest.raises(Injected):
        run_index(indexed, settings, servable, progress=False)
    monkeypatch.undo()

    summary = run_index(indexed, settings, servable, progress=False)
    assert summary.previous_version == switched["version"]
    assert summary.dropped_versions == [first_live]
    assert summary.points_after == len(entry_ids(indexed))
    assert held_ids(settings, servable) == entry_ids(indexed)
