"""Programs run in a Python process of their own: what a fresh process loads or starts."""

from __future__ import annotations

import subprocess
import sys


def printed_by(program: str, *args: str, timeout_s: float = 180) -> str:
    """What `python -c program args...` prints (stripped); fails the test if the program fails."""
    done = subprocess.run(
        [sys.executable, "-c", program, *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=True,
    )
    return done.stdout.strip()
