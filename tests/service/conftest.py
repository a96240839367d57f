"""Service fixtures: a collection indexed by the real indexer, an app or a real server over it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from faq_core.settings import Settings
from indexer.run import run_index
from service.app import create_app

INDEXED_LINES = 120


@pytest.fixture(scope="session")
def faq_slice(tmp_path_factory: pytest.TempPathFactory, val_file: Path) -> Path:
    """The first lines of val.jsonl, as a data file of their own."""
    path = tmp_path_factory.mktemp("data") / "faq.jsonl"
    with val_file.open() as source:
        path.write_text("".join(next(source) for _ in range(INDEXED_LINES)))
    return path


@pytest.fixture(scope="session")
def faq_rows(faq_slice: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in faq_slice.read_text().splitlines()]


@pytest.fixture(scope="session")
def indexed_store(
    tmp_path_factory: pytest.TempPathFactory, trained_servable_dir: Path, faq_slice: Path
) -> Path:
    """An embedded store holding the slice, indexed once; tests copy it before writing."""
    store = tmp_path_factory.mktemp("indexed") / "store"
    run_index(
        faq_slice,
        Settings(model_path=trained_servable_dir, store_path=store, device="cpu"),
        progress=False,
    )
    return store


def copy_store(indexed_store: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "store"
    shutil.copytree(indexed_store, target)
    return target


@pytest.fixture
def app_settings(indexed_store: Path, tmp_path: Path, trained_servable_dir: Path) -> Settings:
    return Settings(
        model_path=trained_servable_dir,
        store_path=copy_store(indexed_store, tmp_path),
        device="cpu",
    )


@pytest.fixture
def client(app_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings), raise_server_exceptions=False) as test_client:
        yield test_client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """`faq-serve` in its own process, on a free loopback port, as an operator would start it."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env}
        self.process: subprocess.Popen[bytes] | None = None
        # A file, not a pipe: nobody reads a pipe while the server runs, and once it is full the
        # server's next log line blocks its event loop.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as this object)

    def start(self, timeout_s: float = 90.0, *, ready_path: str = "/readyz") -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service", "--port", str(self.port), "--log-level", "warning"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"faq-serve exited: {self.stderr()[-2000:]}")
            try:
                if httpx.get(f"{self.url}{ready_path}", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise TimeoutError("faq-serve did not become ready")

    def stderr(self) -> str:
        """What the server logged so far."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        code = self.process.wait(timeout=30)
        self.process = None
        return code


class StandIn:
    """The stand-in Qdrant server process, on a fixed port and data directory across restarts."""

    def __init__(self, path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.path = path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "tests.support.qdrant_standin"]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port), "--path", str(self.path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/collections", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise TimeoutError("the Qdrant stand-in did not start")

    def signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def stop(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        self.process.terminate()
        self.process.wait(timeout=30)
        self.process = None
