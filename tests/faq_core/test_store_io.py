"""faq-store's export and restore (faq_core.store.dump, export, restore) on both backends, in
process: a round trip gives the same export back, on either backend and across them; a store
that holds anything is refused; a bad or cut export writes nothing."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from backup.run import export_file, restore_file
from faq_core.errors import DataFileError, StoreNotEmpty
from faq_core.feedback import FeedbackEvent
from faq_core.settings import Settings
from faq_core.store import Backend
from faq_core.store.dump import read_stream
from faq_core.store.restore import MARK_LOG, RestoreMark, holdings, restore
from tests.support.backends import BACKENDS, make_backend
from tests.support.deployment import body, export_bytes, export_lines, fill, same_export

SETTINGS = Settings(model_path=Path("/nonexistent/servable"))


def restored(data: bytes, backend: Backend, *, replace_held: bool = False) -> None:
    header, items = read_stream(export_lines(data), "test export")
    restore(backend, header, items, SETTINGS, replace_held=replace_held)


@pytest.fixture(params=BACKENDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def source(kind: str, tmp_path: Path, val_file: Path) -> Backend:
    backend = make_backend(kind, tmp_path / "source")
    fill(backend, val_file)
    return backend


def test_the_export_holds_every_entry_phrasing_and_record(source: Backend) -> None:
    lines = body(export_bytes(source))
    kinds = [line["kind"] for line in lines]
    assert kinds.count("entry") == 45  # 40 from the file, 5 at runtime
    # 10 entries came with 2 phrasings; 3 entries got 2 more each.
    assert kinds.count("phrasing") == 10 * 2 + 3 * 2
    runtime = [x for x in lines if x["kind"] == "entry" and x["payload"].get("origin") == "api"]
    assert len(runtime) == 5
    added = [x for x in lines if x["kind"] == "phrasing" and x["payload"].get("origin") == "api"]
    assert len(added) == 6 and all(x["payload"]["seq"] > 10**15 for x in added)
    logs = [x["log"] for x in lines if x["kind"] == "record"]
    assert logs == ["feedback"] * 3 + ["unanswered"] * 6 + ["reviews"] * 3 + ["rejections"] * 3
    assert lines[-1] == {
        "kind": "end",
        "counts": {
            "entries": 45,
            "phrasings": 26,
            "feedback": 3,
            "unanswered": 6,
            "reviews": 3,
            "rejections": 3,
        },
    }
    # A phrasing never comes before its entry: a restore may write them in the order read.
    seen: set[str] = set()
    for line in lines:
        if line["kind"] == "entry":
            seen.add(line["payload"]["id"])
        elif line["kind"] == "phrasing":
            assert line["payload"]["phrasing_of"] in seen


def test_export_restore_export_gives_the_same_export(
    source: Backend, kind: str, tmp_path: Path
) -> None:
    first = export_bytes(source)
    target = make_backend(kind, tmp_path / "target")
    restored(first, target)
    # A server normalizes cosine vectors as it stores them: a float32 unit vector may move by
    # one unit in its last place. Qdrant Edge keeps them as given.
    same_export(first, export_bytes(target), vectors_exact=kind == "edge")
    assert target.record_log(MARK_LOG, RestoreMark).records() == []


@pytest.mark.parametrize("direction", [("edge", "server"), ("server", "edge")])
def test_an_export_of_one_backend_restores_into_the_other(
    direction: tuple[str, str], tmp_path: Path, val_file: Path
) -> None:
    source = make_backend(direction[0], tmp_path / "source")
    fill(source, val_file)
    first = export_bytes(source)
    target = make_backend(direction[1], tmp_path / "target")
    restored(first, target)
    same_export(first, export_bytes(target), vectors_exact=False)
    live = target.catalog.live()
    assert live is not None
    store = target.catalog.store(live)
    try:
        entries = {e.entry_id: e for e in store.entries()}
        runtime = [e for e in entries.values() if e.added_at_runtime]
        assert len(entries) == 45 and len(runtime) == 5
        assert sum(p.added for e in entries.values() for p in e.phrasings) == 6
        assert store.metadata() == {"model_id": "test-servable", "dim": 16}
    finally:
        store.close()


def test_restore_refuses_a_store_that_holds_entries_unless_told_to_replace(
    source: Backend, kind: str, tmp_path: Path, val_file: Path
) -> None:
    export = export_bytes(source)
    target = make_backend(kind, tmp_path / "target")
    fill(target, val_file, entries=7, records=1, seed=1)
    before = export_bytes(target)
    with pytest.raises(StoreNotEmpty, match=r"not empty .*holds 12 entries.*pass --replace"):
        restored(export, target)
    same_export(before, export_bytes(target))
    restored(export, target, replace_held=True)
    # Nothing of what it held is left: its entries and its records are those of the export.
    same_export(export, export_bytes(target), vectors_exact=kind == "edge")


def test_restore_refuses_a_store_that_holds_only_feedback(
    source: Backend, kind: str, tmp_path: Path
) -> None:
    export = export_bytes(source)
    target = make_backend(kind, tmp_path / "target")
    feedback = next(x for x in body(export) if x.get("log") == "feedback")["record"]
    target.feedback_log.append(FeedbackEvent.from_json(feedback))
    with pytest.raises(StoreNotEmpty, match=r"holds 1 feedback"):
        restored(export, target)
    assert target.catalog.live() is None


def cut(export: bytes, lines: int) -> bytes:
    return b"".join(export.splitlines(keepends=True)[:lines])


def test_a_cut_or_damaged_export_is_refused_before_anything_is_written(
    source: Backend, tmp_path: Path
) -> None:
    export = export_bytes(source)
    settings = Settings(model_path=Path("/nonexistent"), store_path=tmp_path / "target")
    target = tmp_path / "export.jsonl"
    target.write_bytes(cut(export, 60))
    with pytest.raises(DataFileError, match=r"export.jsonl:61: cut short: no end record"):
        restore_file(settings, target)
    lines = export.splitlines(keepends=True)
    damaged = json.loads(lines[30])
    damaged["vectors"]["question"] = damaged["vectors"]["question"][:40]
    lines[30] = json.dumps(damaged).encode() + b"\n"
    target.write_bytes(b"".join(lines))
    with pytest.raises(
        DataFileError, match=r"export.jsonl:31: a vector of 30 bytes, not 16 float32"
    ):
        restore_file(settings, target)
    target.write_bytes(b'{"question": "q", "answer": "a"}\n')
    with pytest.raises(DataFileError, match=r"export.jsonl:1: not a faq-store export"):
        restore_file(settings, target)
    # Checked whole before the store was even opened: nothing there, not even the mark.
    assert not (tmp_path / "target").exists()


def test_holdings_name_what_a_store_holds(source: Backend, tmp_path: Path) -> None:
    assert holdings(source) == {
        "entries": 45,
        "feedback": 3,
        "unanswered": 6,
        "reviews": 3,
        "rejections": 3,
    }
    assert holdings(make_backend("edge", tmp_path / "empty")) == {}


def test_an_export_named_gz_is_compressed_and_restores(tmp_path: Path, val_file: Path) -> None:
    embedded = make_backend("edge", tmp_path / "source")
    fill(embedded, val_file)
    embedded.close()
    settings = Settings(model_path=Path("/nonexistent"), store_path=tmp_path / "source" / "store")
    plain = export_file(settings, tmp_path / "export.jsonl")
    packed = export_file(settings, tmp_path / "export.jsonl.gz")
    assert (tmp_path / "export.jsonl.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert packed.bytes < plain.bytes
    assert (
        gzip.decompress((tmp_path / "export.jsonl.gz").read_bytes()).splitlines()[1:]
        == ((tmp_path / "export.jsonl").read_bytes().splitlines()[1:])
    )
    restored_to = settings.model_copy(update={"store_path": tmp_path / "restored"})
    summary = restore_file(restored_to, tmp_path / "export.jsonl.gz")
    assert (summary.entries, summary.phrasings, summary.records["unanswered"]) == (45, 26, 6)
    assert not list(tmp_path.glob("*.part"))
