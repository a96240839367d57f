"""Progress bars: live on a terminal, a bounded number of plain lines in a log file."""

from __future__ import annotations

import os
import select
import sys
import time
from pathlib import Path

import pytest
from transformers.utils import logging as transformers_logging

from faq_core.progress import LINE_INTERVAL_S, progress_bar, route_transformers_bars

STEPS = 200
STEP_S = 0.005  # 1 s in all
INTERVAL_S = 0.1


def run_loop(**kwargs: object) -> float:
    """A loop of STEPS steps that also updates its postfix at every step (as training does);
    returns how long it took."""
    started = time.monotonic()
    bar = progress_bar(range(STEPS), desc="working", unit="step", **kwargs)  # type: ignore[arg-type]
    for step in bar:
        time.sleep(STEP_S)
        bar.set_postfix(step=step)
    return time.monotonic() - started


def test_off_a_terminal_it_writes_a_line_per_interval_and_no_carriage_return(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr:
        monkeypatch.setattr(sys, "stderr", stderr)  # as a service's stderr redirected to a file
        seconds = run_loop(line_interval_s=INTERVAL_S)
    text = log.read_text()
    assert "\r" not in text
    assert text.endswith("\n")
    lines = text.splitlines()
    # One line per interval at most (the first after one interval), and one at the end.
    assert 2 <= len(lines) <= seconds / INTERVAL_S + 1
    assert all(line.startswith("working:") for line in lines)
    assert f"{STEPS}/{STEPS}" in lines[-1]
    assert f"{STEPS}/{STEPS}" not in lines[0]


def test_off_a_terminal_a_loop_shorter_than_an_interval_writes_nothing(tmp_path: Path) -> None:
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr:
        for _ in progress_bar(range(50), desc="quick", file=stderr, line_interval_s=60):
            pass
    assert log.read_text() == ""


def test_on_a_terminal_it_is_the_live_bar(tmp_path: Path) -> None:
    controller, terminal_fd = os.openpty()
    try:
        with os.fdopen(terminal_fd, "w") as terminal:
            assert terminal.isatty()
            for _ in progress_bar(range(20), desc="live", file=terminal):
                pass
            terminal.flush()
            written = ""
            while select.select([controller], [], [], 0.5)[0]:
                written += os.read(controller, 65536).decode()
    finally:
        os.close(controller)
    assert "\r" in written  # redrawn in place
    assert "live: 100%" in written


def test_transformers_bars_are_drawn_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    route_transformers_bars()
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr:
        monkeypatch.setattr(sys, "stderr", stderr)
        bar = transformers_logging.tqdm(range(500), desc="Loading weights")
        for _ in bar:
            pass
    assert bar.mininterval == LINE_INTERVAL_S
    assert "\r" not in log.read_text()
