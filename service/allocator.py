"""Run the service on jemalloc when the system has it (Debian: libjemalloc2).

Every batch of questions has its own shape, so the encoder's activations come in ever-different
sizes. glibc's malloc keeps the freed pieces in per-thread arenas, and the service's memory crept up
for as long as it served (a 10-minute soak: +6.5% after warm-up, still rising). jemalloc reuses and
returns such memory: the same encode loop stayed flat at about 600 MB instead of rising from 660 to
700 MB, at the same speed (bench/SOAK.md has the service's own figures).

An allocator must be chosen before the process starts, so the service starts itself again with
jemalloc preloaded; the process id stays the same.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from collections.abc import Sequence

_MARK = "FAQ_JEMALLOC_PRELOADED"  # set on the way in, so that a failed preload never loops


def jemalloc_library() -> str | None:
    """The name the dynamic linker knows jemalloc by, or None where it is not installed."""
    return ctypes.util.find_library("jemalloc")


def running_on_jemalloc() -> bool:
    with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
        return "libjemalloc" in maps.read()


def restart_on_jemalloc(argv: Sequence[str]) -> None:
    """Replace this process with `python <argv>` on jemalloc; return when that cannot or need not
    happen (not Linux, not installed, already on it, or tried once already)."""
    if not sys.platform.startswith("linux") or os.environ.get(_MARK):
        return
    library = jemalloc_library()
    if library is None or running_on_jemalloc():
        return
    env = dict(os.environ)
    env[_MARK] = "1"
    env["LD_PRELOAD"] = " ".join(filter(None, [library, env.get("LD_PRELOAD")]))
    # A background thread returns freed memory to the system while the service is idle too.
    env.setdefault("MALLOC_CONF", "background_thread:true")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *argv], env)
