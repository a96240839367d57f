"""Failure 1 of issue 22, for real: the embedded store on a small tmpfs, a real faq-serve, the disk
filled by a file to within 2 MB. Writes are refused with 507 before they reach Edge (which would
die of SIGBUS), reads go on, /readyz and /metrics say so; writes are taken again once the file
is deleted; and the service starts on the full disk and serves reads.

Mounting needs root (CI runs as root); elsewhere the test skips, saying why."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from faq_core.settings import Settings
from indexer.run import run_index
from tests.service.conftest import ServerProcess

DISK_MB = 60
MARGIN_MB = 16  # FAQ_MIN_FREE_MB: a 60 MB disk leaves room under the 64 MB default
LEFT_FREE = 2 * 2**20  # what the filler leaves, as in the reproduction
QUESTION = "is there a rest api for dataproc?"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs for the full-disk test needs root (CI runs as root)")
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "--lazy", str(mountpoint)], check=True)


def free(path: Path) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def fill(disk: Path, leave: int = LEFT_FREE) -> Path:
    """A file taking all the free space of `disk` but `leave` bytes."""
    filler = disk / "filler"
    with filler.open("ab") as handle:
        os.posix_fallocate(handle.fileno(), handle.tell(), max(0, free(disk) - leave))
    assert free(disk) <= leave + 2**16
    return filler


def batch(n: int, tag: str) -> dict[str, object]:
    return {
        "entries": [
            {"question": f"how do i fix problem {tag}-{i}?", "answer": f"Restart it ({tag}-{i})."}
            for i in range(n)
        ]
    }


def metric(service: ServerProcess, name: str) -> float:
    for line in httpx.get(f"{service.url}/metrics", timeout=10).text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not in /metrics")


def assert_reads_work(service: ServerProcess, entry_id: str) -> None:
    ask = httpx.post(f"{service.url}/ask", json={"question": QUESTION}, timeout=30)
    assert ask.status_code == 200 and ask.json()["answers"], ask.text
    assert httpx.get(f"{service.url}/answers/{entry_id}", timeout=30).status_code == 200


@pytest.fixture
def service(
    small_disk: Path, trained_servable_dir: Path, faq_slice: Path
) -> Iterator[ServerProcess]:
    store = small_disk / "store"
    settings = Settings(
        model_path=trained_servable_dir, store_path=store, device="cpu", min_free_mb=MARGIN_MB
    )
    run_index(faq_slice, settings, progress=False)
    process = ServerProcess(
        {
            "FAQ_MODEL_PATH": str(trained_servable_dir),
            "FAQ_STORE_PATH": str(store),
            "FAQ_DEVICE": "cpu",
            "FAQ_MIN_FREE_MB": str(MARGIN_MB),
            "FAQ_WATCH_INTERVAL_S": "0.5",
        }
    )
    yield process
    if process.process is not None:
        process.stop()


def test_a_full_disk_refuses_writes_with_507_serves_reads_and_recovers(
    small_disk: Path, service: ServerProcess
) -> None:
    service.start()
    added = httpx.post(f"{service.url}/answers", json=batch(50, "before"), timeout=60)
    assert added.status_code == 201, added.text
    entry_id = added.json()["ids"][0]
    count = httpx.get(f"{service.url}/manifest", timeout=10).json()["index"]["entries"]

    filler = fill(small_disk)
    for round_ in range(4):
        refused = httpx.post(f"{service.url}/answers", json=batch(50, f"full{round_}"), timeout=60)
        assert refused.status_code == 507, refused.text
        error = refused.json()["error"]
        assert error["code"] == "storage_full"
        assert str(small_disk / "store") in error["message"]
        assert " MB free, less than the 16 MB kept free (FAQ_MIN_FREE_MB)" in error["message"]
        assert_reads_work(service, entry_id)
    verdict = {"question": QUESTION, "answer_id": entry_id, "helpful": True}
    feedback = httpx.post(f"{service.url}/feedback", json=verdict, timeout=30)
    assert feedback.status_code == 507 and feedback.json()["error"]["code"] == "storage_full"
    assert httpx.delete(f"{service.url}/answers/{entry_id}", timeout=30).status_code == 507

    ready = httpx.get(f"{service.url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json()["writes"].startswith("refused: disk full")
    assert metric(service, "faq_store_free_bytes") <= LEFT_FREE + 2**16
    assert metric(service, "faq_writes_refused_total") >= 6
    assert service.process is not None and service.process.poll() is None  # alive
    assert httpx.get(f"{service.url}/manifest", timeout=10).json()["index"]["entries"] == count

    filler.unlink()  # space is back: writes are taken again, no restart
    again = httpx.post(f"{service.url}/answers", json=batch(50, "after"), timeout=60)
    assert again.status_code == 201, again.text
    assert httpx.post(f"{service.url}/feedback", json=verdict, timeout=30).status_code == 201
    assert httpx.get(f"{service.url}/readyz", timeout=10).json()["writes"] == "ok"
    count += 50

    # Stopped and started again on a full disk: it starts, serves reads, refuses writes.
    time.sleep(1.5)  # the watcher flushes what the last writes left in the write-ahead log
    fill(small_disk)
    assert service.stop() in (0, -15)
    service.start()
    ready = httpx.get(f"{service.url}/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json()["writes"].startswith("refused")
    assert_reads_work(service, entry_id)
    assert httpx.get(f"{service.url}/manifest", timeout=10).json()["index"]["entries"] == count
    late = httpx.post(f"{service.url}/answers", json=batch(50, "restarted"), timeout=60)
    assert late.status_code == 507
    assert "disk full" in service.stderr()
