"""faq-serve never opens its writes (and users' unanswered questions) to the network by accident:
beyond loopback without FAQ_API_KEY it refuses to start, unless told it may, and then says so."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from faq_core.settings import Settings
from service.exposure import OpenWritesRefused, check_exposure, is_loopback
from tests.service.conftest import ServerProcess, copy_store, free_port

REFUSAL = re.compile(r"refusing to serve on 0\.0\.0\.0 .*without FAQ_API_KEY")
WARNING = "WRITES ARE OPEN TO THE NETWORK: serving on 0.0.0.0 without FAQ_API_KEY"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("", False),
        ("::", False),
        ("192.168.1.20", False),
        ("faq.example.com", False),  # a name could resolve anywhere
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("host", "published", "key", "allow", "outcome"),
    [
        ("127.0.0.1", None, None, False, "quiet"),
        ("0.0.0.0", None, "k3y", False, "quiet"),
        ("0.0.0.0", None, None, False, "refused"),
        ("10.0.0.5", None, None, False, "refused"),
        ("0.0.0.0", None, None, True, "warned"),
        # In a container: listening on every interface, published on the host's loopback only.
        ("0.0.0.0", "127.0.0.1", None, False, "quiet"),
        ("0.0.0.0", "0.0.0.0", None, False, "refused"),
        ("0.0.0.0", "0.0.0.0", "k3y", False, "quiet"),
        ("0.0.0.0", "0.0.0.0", None, True, "warned"),
    ],
)
def test_check_exposure(
    host: str, published: str | None, key: str | None, allow: bool, outcome: str
) -> None:
    settings = Settings(
        host=host,
        published_host=published,
        api_key=SecretStr(key) if key else None,
        allow_open_writes=allow,
    )
    if outcome == "refused":
        with pytest.raises(OpenWritesRefused, match="FAQ_ALLOW_OPEN_WRITES=true"):
            check_exposure(settings)
        return
    warning = check_exposure(settings)
    if outcome == "quiet":
        assert warning is None
    else:
        assert warning is not None
        assert "WRITES ARE OPEN TO THE NETWORK" in warning


def clean_env(**env: str) -> dict[str, str]:
    """This process's environment without any FAQ_* setting, plus `env`."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("FAQ_")}, **env}


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--host", "0.0.0.0"], {}),
        (["--host", "0.0.0.0"], {"FAQ_PUBLISHED_HOST": "0.0.0.0"}),  # compose, FAQ_PUBLISH set
    ],
    ids=["host", "container-published"],
)
def test_faq_serve_on_every_interface_without_a_key_refuses_to_start(
    args: list[str], env: dict[str, str]
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "service", *args, "--port", str(free_port())],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert REFUSAL.search(done.stderr), done.stderr
    assert "Set FAQ_API_KEY" in done.stderr


@pytest.fixture
def open_server(
    indexed_store: Path, tmp_path: Path, trained_servable_dir: Path
) -> Iterator[ServerProcess]:
    process = ServerProcess(
        clean_env(
            FAQ_HOST="0.0.0.0",
            FAQ_ALLOW_OPEN_WRITES="true",
            FAQ_MODEL_PATH=str(trained_servable_dir),
            FAQ_STORE_PATH=str(copy_store(indexed_store, tmp_path)),
            FAQ_DEVICE="cpu",
        )
    )
    process.start()
    yield process
    if process.process is not None:
        process.stop()


@pytest.mark.slow  # a faq-serve process
def test_faq_serve_allowed_to_open_writes_starts_and_warns(open_server: ServerProcess) -> None:
    assert WARNING in open_server.stderr()
    added = httpx.post(
        f"{open_server.url}/answers",
        json={"entries": [{"answer": "anyone may write here, as the warning said."}]},
        timeout=30,
    )
    assert added.status_code == 201, added.text
