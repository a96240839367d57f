"""What the service loads once is kept out of the garbage collector's sight, and what it
replaces is still collected."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from fastapi.testclient import TestClient

from faq_core.servable import fingerprint
from faq_core.settings import Settings
from indexer.run import run_index
from service import heap
from service.app import create_app


class Node:
    """An object the collector tracks, which a weak reference can watch."""

    link: Node | None = None


def seen_by_collector(obj: object) -> bool:
    return any(tracked is obj for tracked in gc.get_objects())


def test_settle_puts_what_lives_now_out_of_sight_and_sees_what_comes_after() -> None:
    before = Node()
    heap.settle()
    after = Node()
    assert not seen_by_collector(before)
    assert seen_by_collector(after)


def test_a_cycle_put_out_of_sight_is_collected_by_the_next_settle() -> None:
    node = Node()
    node.link = node
    gone = weakref.ref(node)
    heap.settle()
    del node
    gc.collect()
    assert gone() is not None  # out of sight: a plain collection leaves it
    heap.settle()
    assert gone() is None


def test_the_service_keeps_its_servable_out_of_sight_across_a_switch_of_servables(
    app_settings: Settings, untrained_servable_dir: Path, faq_slice: Path, tmp_path: Path
) -> None:
    link = tmp_path / "model"
    link.symlink_to(app_settings.model_path)
    # The test runs the watcher's round itself.
    settings = app_settings.model_copy(update={"model_path": link, "watch_interval_s": 3600})
    with TestClient(create_app(settings)) as client:
        engine = client.app.state.engine
        first = weakref.ref(engine.servable.model)
        assert not seen_by_collector(engine.servable.model)

        link.unlink()
        link.symlink_to(untrained_servable_dir)
        run_index(faq_slice, settings, progress=False)
        client.portal.call(engine.check_once)

        assert engine.servable.model_id == fingerprint(untrained_servable_dir)
        assert not seen_by_collector(engine.servable.model)
        assert first() is None  # the servable it replaced is gone, though it had been frozen
        asked = client.post("/ask", json={"question": "how do i delete a project?"})
        assert asked.status_code == 200
