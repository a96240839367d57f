"""faq-index: a data file into the collection, validated first, idempotent."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest

from faq_core.encoding import encode_entries
from faq_core.entries import ORIGIN_KEY, RUNTIME_ORIGIN, FaqEntry
from faq_core.errors import CollectionMissing, DataFileError, ModelMismatch
from faq_core.servable import Servable, load_servable
from faq_core.settings import Settings
from faq_core.sources import read_entries
from faq_core.store.edge import EdgeCatalog
from indexer.cli import main as index_main
from indexer.run import run_index
from tests.conftest import ANSWER_CONTEXT, expected_answer_vector, open_live_store

LINES = 100
ANSWER_ONLY = {"answer": "open the billing console and choose download invoice.", "source": "kb"}


def val_lines(val_file: Path, n: int) -> list[str]:
    with val_file.open() as handle:
        return [next(handle).rstrip("\n") for _ in range(n)]


@pytest.fixture
def data_file(tmp_path: Path, val_file: Path) -> Path:
    """100 real entries, one of them repeated, and one answer without a question."""
    lines = val_lines(val_file, LINES)
    lines += [lines[4], json.dumps(ANSWER_ONLY)]
    path = tmp_path / "faq.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def expected_unique(path: Path) -> int:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return len({(r.get("source"), r.get("question"), r["answer"]) for r in rows})


def test_indexes_unique_entries_idempotently_and_they_are_found(
    data_file: Path, settings: Settings, servable: Servable
) -> None:
    unique = expected_unique(data_file)
    assert unique == LINES + 1  # the repeated line adds nothing, the answer-only line does

    first = run_index(data_file, settings, servable, progress=False)
    assert first.lines == LINES + 2
    assert first.unique_entries == unique
    assert (first.points_before, first.points_after) == (None, unique)
    assert first.previous_version is None
    assert (first.encoded, first.unchanged, first.carried_over) == (unique, 0, 0)
    assert first.encoded_texts == unique + LINES  # every answer, and the 100 questions
    assert first.model_id == servable.model_id
    assert first.collection == settings.collection
    assert first.as_dict()["entries_per_second"] > 0

    second = run_index(data_file, settings, servable, progress=False)
    assert (second.points_before, second.points_after) == (unique, unique)
    assert (second.encoded, second.encoded_texts, second.unchanged) == (0, 0, unique)
    assert second.previous_version == first.version != second.version

    rows = [json.loads(line) for line in val_lines(data_file, LINES)]
    store = open_live_store(settings, servable)
    try:
        asked = [rows[i] for i in (0, 17, 42, 99)]
        vectors = servable.encode([r["question"] for r in asked])
        for row, hits in zip(asked, store.search_many(vectors, 3), strict=True):
            expected_id = FaqEntry(
                answer=row["answer"], question=row["question"], source=row["source"]
            ).entry_id
            assert hits[0].entry.entry_id == expected_id
            assert hits[0].entry.answer == row["answer"]
            assert hits[0].entry.extra == {"filename": row["filename"]}
        [hit] = store.search(servable.encode([ANSWER_ONLY["answer"]])[0], 1, source="kb")
        assert hit.entry.question is None
        assert hit.entry.answer == ANSWER_ONLY["answer"]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ('{"question": "what is s3?", "answer": "object storage"', "invalid JSON"),
        ('{"question": "what is s3?", "answer": 3}', "field 'answer' must be a string, got int"),
    ],
    ids=["truncated-json", "answer-not-string"],
)
def test_a_bad_line_writes_nothing(
    tmp_path: Path,
    val_file: Path,
    settings: Settings,
    servable: Servable,
    bad_line: str,
    reason: str,
) -> None:
    lines = val_lines(val_file, 10)
    lines[6] = bad_line  # line 7
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFileError, match=re.escape(f"{path}:7: {reason}")) as info:
        run_index(path, settings, servable, progress=False)
    assert info.value.line == 7
    with pytest.raises(CollectionMissing):
        open_live_store(settings, servable)
    catalog = EdgeCatalog(settings.store_path, settings.collection)
    assert catalog.live() is None
    assert catalog.versions() == []  # the version being built was removed


def test_cli_reports_a_bad_line_and_exits_2(
    tmp_path: Path, val_file: Path, index_env: Settings, servable: Servable, capsys
) -> None:
    lines = val_lines(val_file, 10)
    lines[6] = "{oops"
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SystemExit) as exit_info:
        index_main(["--data", str(path), "--quiet"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert re.search(rf"^error: {re.escape(str(path))}:7: invalid JSON", err, re.MULTILINE), err
    assert "Traceback" not in err
    with pytest.raises(CollectionMissing):
        open_live_store(index_env, servable)


def test_cli_indexes_and_prints_a_summary(
    tmp_path: Path, val_file: Path, index_env: Settings, servable: Servable, capsys
) -> None:
    path = tmp_path / "small.jsonl"
    path.write_text("\n".join(val_lines(val_file, 12)) + "\n")
    index_main(["--data", str(path), "--quiet"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["lines"] == summary["unique_entries"] == summary["points_after"] == 12
    assert summary["model_id"] == servable.model_id
    assert summary["data"] == str(path)
    store = open_live_store(index_env, servable)
    try:
        assert store.count() == 12
    finally:
        store.close()


def test_cli_with_a_missing_servable_exits_2(
    tmp_path: Path, val_file: Path, index_env: Settings, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    missing = tmp_path / "no-model"
    monkeypatch.setenv("FAQ_MODEL_PATH", str(missing))
    path = tmp_path / "small.jsonl"
    path.write_text("\n".join(val_lines(val_file, 3)) + "\n")
    with pytest.raises(SystemExit) as exit_info:
        index_main(["--data", str(path), "--quiet"])
    assert exit_info.value.code == 2
    assert f"{missing} is not a servable: config.json is missing" in capsys.readouterr().err


def test_a_changed_entry_is_encoded_again(
    tmp_path: Path, val_file: Path, settings: Settings, servable: Servable
) -> None:
    lines = val_lines(val_file, 8)
    path = tmp_path / "faq.jsonl"
    path.write_text("\n".join(lines) + "\n")
    run_index(path, settings, servable, progress=False)
    row = json.loads(lines[3])
    lines[3] = json.dumps({**row, "filename": "moved-page"})  # same id, other payload
    path.write_text("\n".join(lines) + "\n")
    summary = run_index(path, settings, servable, progress=False)
    assert (summary.encoded, summary.unchanged) == (1, len(lines) - 1)
    assert summary.points_after == len(lines)
    store = open_live_store(settings, servable)
    try:
        entry_id = FaqEntry(answer=row["answer"], question=row["question"], source=row["source"])
        stored = store.get(entry_id.entry_id)
        assert stored is not None
        assert stored.extra == {"filename": "moved-page"}
    finally:
        store.close()


def test_answers_are_indexed_with_the_servables_answer_encoding(
    tmp_path: Path, val_file: Path, contextual_servable_dir: Path, servable: Servable
) -> None:
    plain_servable = servable
    servable = load_servable(contextual_servable_dir, "cpu")
    assert servable.answer_encoding.context == ANSWER_CONTEXT
    assert servable.model_id != plain_servable.model_id  # its collection is another
    settings = Settings(
        model_path=contextual_servable_dir, store_path=tmp_path / "store", device="cpu"
    )
    path = tmp_path / "faq.jsonl"
    path.write_text("\n".join(val_lines(val_file, 4)) + "\n")
    run_index(path, settings, servable, progress=False)
    entries = read_entries(path)
    store = open_live_store(settings, servable)
    try:
        stored = store.get_encoded([e.entry_id for e in entries])
    finally:
        store.close()
    for entry in entries:
        assert entry.question is not None
        plain, question = servable.encode([entry.answer, entry.question])
        vectors = stored[entry.entry_id]
        assert np.allclose(
            vectors.answer_vector, expected_answer_vector(servable, entry), atol=1e-4
        )
        assert not np.allclose(vectors.answer_vector, plain, atol=1e-2)
        assert vectors.question_vector is not None
        assert np.allclose(vectors.question_vector, question, atol=1e-4)


def test_another_servable_rebuilds_the_collection_and_keeps_runtime_entries(
    tmp_path: Path, val_file: Path, settings: Settings, servable: Servable
) -> None:
    lines = val_lines(val_file, 6)
    path = tmp_path / "faq.jsonl"
    path.write_text("\n".join(lines) + "\n")
    run_index(path, settings, servable, progress=False)
    added = FaqEntry(
        answer="call support on weekends at the number in the console.",
        source="api",
        extra={ORIGIN_KEY: RUNTIME_ORIGIN},
    )
    store = open_live_store(settings, servable)
    try:
        store.upsert(encode_entries(servable, [added]))  # as POST /answers would
    finally:
        store.close()

    # The same weights under another fingerprint: to the store, a servable it was not built by.
    other = dataclasses.replace(servable, model_id="0ther5ervable000")
    summary = run_index(path, settings, other, progress=False)
    assert summary.carried_over == 1  # encoded again with the new servable
    assert (summary.encoded, summary.unchanged) == (len(lines), 0)
    assert summary.points_after == len(lines) + 1
    with pytest.raises(ModelMismatch, match=r"re-index"):
        open_live_store(settings, servable)
    store = open_live_store(settings, other)
    try:
        kept = store.get(added.entry_id)
        assert kept is not None
        assert kept.answer == added.answer
        [hit] = store.search(servable.encode([added.answer])[0], 1)
        assert hit.entry.entry_id == added.entry_id
    finally:
        store.close()


def test_a_re_index_drops_entries_that_left_the_file_keeps_runtime_ones_and_one_old_version(
    tmp_path: Path, val_file: Path, settings: Settings, servable: Servable
) -> None:
    lines = val_lines(val_file, 10)
    path = tmp_path / "faq.jsonl"
    path.write_text("\n".join(lines) + "\n")
    first = run_index(path, settings, servable, progress=False)
    added = FaqEntry(answer="our office is closed on public holidays.", extra={ORIGIN_KEY: "api"})
    store = open_live_store(settings, servable)
    try:
        store.upsert(encode_entries(servable, [added]))
    finally:
        store.close()

    path.write_text("\n".join(lines[:7]) + "\n")  # three entries removed from the file
    second = run_index(path, settings, servable, progress=False)
    assert (second.points_before, second.points_after) == (11, 8)
    assert (second.unchanged, second.encoded, second.carried_over) == (7, 0, 1)
    third = run_index(path, settings, servable, progress=False)
    assert third.dropped_versions == [first.version]

    catalog = EdgeCatalog(settings.store_path, settings.collection)
    assert catalog.versions() == [second.version, third.version]
    assert catalog.live() == third.version
    store = open_live_store(settings, servable)
    try:
        removed = FaqEntry(**{k: json.loads(lines[8])[k] for k in ("answer", "question", "source")})
        assert store.get(removed.entry_id) is None
        assert store.get(added.entry_id) is not None
    finally:
        store.close()


def test_an_empty_file_makes_an_empty_version_that_keeps_runtime_entries(
    tmp_path: Path, index_env: Settings, servable: Servable, capsys: pytest.CaptureFixture[str]
) -> None:
    """A FAQ kept elsewhere (a CMS) and pushed through POST /answers starts from nothing."""
    settings = index_env
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    first = run_index(empty, settings, servable, progress=False)
    assert (first.lines, first.points_before, first.points_after) == (0, None, 0)
    store = open_live_store(settings, servable)
    added = FaqEntry(answer="our office is closed on public holidays.", extra={ORIGIN_KEY: "api"})
    try:
        assert store.count() == 0
        store.upsert(encode_entries(servable, [added]))
    finally:
        store.close()
    second = run_index(empty, settings, servable, progress=False)
    assert (second.points_before, second.points_after, second.carried_over) == (1, 1, 1)

    index_main(["--data", str(empty), "--quiet"])  # the console script takes it too
    summary = json.loads(capsys.readouterr().out)
    assert (summary["lines"], summary["points_after"]) == (0, 1)


def write_csv_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_cli_indexes_a_csv_file_with_its_extra_columns_in_the_payload(
    tmp_path: Path, val_file: Path, index_env: Settings, servable: Servable, capsys
) -> None:
    rows = [json.loads(line) for line in val_lines(val_file, 8)]
    assert all("filename" in row for row in rows)  # an extra column of the real data
    path = write_csv_rows(tmp_path / "faq.csv", rows)
    index_main(["--data", str(path), "--quiet"])
    assert json.loads(capsys.readouterr().out)["points_after"] == 8
    store = open_live_store(index_env, servable)
    try:
        stored = {e.question: e for e in store.entries()}
    finally:
        store.close()
    for row in rows:
        entry = stored[row["question"]]
        assert (entry.answer, entry.source) == (row["answer"], row["source"])
        assert entry.extra["filename"] == row["filename"]


def test_cli_reports_a_bad_csv_row_with_file_and_line_and_writes_nothing(
    tmp_path: Path, val_file: Path, index_env: Settings, servable: Servable, capsys
) -> None:
    rows = [json.loads(line) for line in val_lines(val_file, 6)]
    rows[3]["answer"] = "  "  # data row 4: line 5, after the header
    path = write_csv_rows(tmp_path / "bad.csv", rows)
    with pytest.raises(SystemExit) as exit_info:
        index_main(["--data", str(path), "--quiet"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"error: {path}:5: field 'answer' is empty" in err, err
    with pytest.raises(CollectionMissing):
        open_live_store(index_env, servable)
