"""Store faults on the server backend, produced for real at the network: the Qdrant server (a
stand-in process, tests/support/qdrant_standin.py) stops answering (SIGSTOP), is killed, and
comes back. The service must answer 503 with a JSON error within a bounded time, say it is not
ready, and recover by itself, without a restart."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from faq_core.settings import Settings
from indexer.run import run_index
from tests.service.conftest import ServerProcess, StandIn

TIMEOUT_S = 1.0  # FAQ_QDRANT_TIMEOUT_S: the longest one store call may take
BOUND_S = TIMEOUT_S + 2.0  # what a client may wait for its 503, with slack for a busy machine
QUESTION = "is there a rest api for dataproc?"


@pytest.fixture
def standin(tmp_path: Path, trained_servable_dir: Path, faq_slice: Path) -> Iterator[StandIn]:
    server = StandIn(tmp_path / "qdrant")
    server.start()
    settings = Settings(model_path=trained_servable_dir, qdrant_url=server.url, device="cpu")
    run_index(faq_slice, settings, progress=False)
    yield server
    if server.process is not None:
        server.stop()


@pytest.fixture
def service(standin: StandIn, trained_servable_dir: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(
        {
            "FAQ_MODEL_PATH": str(trained_servable_dir),
            "FAQ_QDRANT_URL": standin.url,
            "FAQ_DEVICE": "cpu",
            "FAQ_QDRANT_TIMEOUT_S": str(TIMEOUT_S),
            "FAQ_STORE_RETRY_S": "1",
            "FAQ_WATCH_INTERVAL_S": "0.5",
        }
    )
    yield process
    if process.process is not None:
        process.stop()


def timed(method: str, url: str, **kwargs: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.request(method, url, timeout=30, **kwargs)  # type: ignore[arg-type]
    return response, time.monotonic() - started


def assert_unavailable(service: ServerProcess) -> None:
    """Every store-backed endpoint answers 503 with the JSON error, within the bound."""
    calls = [
        ("POST", "/ask", {"json": {"question": QUESTION}}),
        ("POST", "/answers", {"json": {"entries": [{"answer": "kept while the store is down?"}]}}),
        ("GET", "/answers/some-id", {}),
    ]
    for method, path, kwargs in calls * 3:
        response, seconds = timed(method, f"{service.url}{path}", **kwargs)
        assert response.status_code == 503, (path, response.text)
        assert response.json()["error"]["code"] == "store_unavailable"
        assert seconds < BOUND_S, f"{method} {path} took {seconds:.1f} s"
    ready, seconds = timed("GET", f"{service.url}/readyz")
    assert ready.status_code == 503 and ready.json()["status"] == "not ready"
    assert seconds < BOUND_S


def wait_ready(service: ServerProcess, within_s: float = 20) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within_s:
        if httpx.get(f"{service.url}/readyz", timeout=5).status_code == 200:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"not ready again within {within_s} s")


def ask_ok(service: ServerProcess) -> str:
    response = httpx.post(f"{service.url}/ask", json={"question": QUESTION}, timeout=30)
    assert response.status_code == 200, response.text
    return str(response.json()["answers"][0]["id"])


def test_a_hung_then_killed_server_gets_fast_503s_and_the_service_recovers_by_itself(
    standin: StandIn, service: ServerProcess
) -> None:
    service.start()
    first = ask_ok(service)
    added = httpx.post(
        f"{service.url}/answers", json={"entries": [{"answer": "added before the outage"}]}
    ).json()["ids"][0]
    pid = service.process.pid if service.process else None

    standin.signal(signal.SIGSTOP)  # hung: connections open, nothing answers
    assert_unavailable(service)
    standin.signal(signal.SIGCONT)
    wait_ready(service)
    assert ask_ok(service) == first

    standin.stop()  # gone: connections refused
    assert_unavailable(service)
    standin.start()  # back, same port and data
    wait_ready(service)
    assert ask_ok(service) == first
    assert httpx.get(f"{service.url}/answers/{added}").status_code == 200
    assert service.process is not None and service.process.pid == pid  # never restarted


def test_the_service_starts_while_the_server_is_down_and_serves_once_it_is_up(
    standin: StandIn, service: ServerProcess
) -> None:
    standin.stop()
    service.start(ready_path="/healthz")
    assert_unavailable(service)
    standin.start()
    wait_ready(service)
    ask_ok(service)
    metrics = httpx.get(f"{service.url}/metrics").text
    assert 'status="503"' in metrics  # the outage is visible to monitoring
