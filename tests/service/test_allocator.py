"""The service restarts itself on jemalloc: same process, allocator preloaded, never twice."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from service.allocator import jemalloc_library

pytestmark = pytest.mark.skipif(
    jemalloc_library() is None,
    reason="libjemalloc2 is not installed (scripts/setup.sh installs it)",
)

# What the restarted process reports about itself.
REPORT = (
    "import os; from service.allocator import running_on_jemalloc; "
    "print(os.getpid(), running_on_jemalloc(), os.environ.get('MALLOC_CONF'))"
)
# Reports from the restarted process, or from this one when it was not restarted.
RESTART = (
    f"from service.allocator import restart_on_jemalloc; "
    f"restart_on_jemalloc(['-c', {REPORT!r}]); {REPORT}"
)


def run(env: dict[str, str]) -> tuple[int, list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", RESTART],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        text=True,
    )
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    return process.pid, out.split()


def test_restart_keeps_the_process_and_preloads_jemalloc() -> None:
    pid, (reported_pid, on_jemalloc, conf) = run({})
    assert int(reported_pid) == pid
    assert on_jemalloc == "True"
    assert conf == "background_thread:true"


def test_a_preload_that_did_not_take_is_not_tried_again() -> None:
    # The mark is what a restarted process sees; had the preload failed, it must not loop.
    _, (_, on_jemalloc, _) = run({"FAQ_JEMALLOC_PRELOADED": "1"})
    assert on_jemalloc == "False"
