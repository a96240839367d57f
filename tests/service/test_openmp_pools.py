"""The service keeps one pool of OpenMP threads, its first encode worker's: with a second pool
alive, libgomp stops spinning between parallel regions and every forward pass slows down."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.python_process import printed_by

# Threads the process gains while a thread that loaded the servable lives on (as the event loop's
# executor thread does), after a first load has created every process-wide pool.
PROGRAM = """
import os, sys, threading
from faq_core.servable import serving_model
from faq_core.settings import Settings
from service.cpu_threads import load_on_one_thread

settings = Settings(model_path=sys.argv[1], device="cpu")
serving_model(settings)
load = load_on_one_thread if sys.argv[2] == "one" else serving_model
before = len(os.listdir("/proc/self/task"))
loaded, stop = threading.Event(), threading.Event()

def loader():
    load(settings)
    loaded.set()
    stop.wait()

thread = threading.Thread(target=loader)
thread.start()
loaded.wait()
print(len(os.listdir("/proc/self/task")) - before)
stop.set()
thread.join()
"""


def threads_gained(servable_dir: Path, how: str) -> int:
    return int(printed_by(PROGRAM, str(servable_dir), how).splitlines()[-1])


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc")
def test_loading_the_servable_leaves_no_openmp_pool_behind(trained_servable_dir: Path) -> None:
    assert threads_gained(trained_servable_dir, "one") == 1  # the loading thread itself
    # Loaded on all threads it does leave one (the check above could fail).
    assert threads_gained(trained_servable_dir, "plain") > 1
