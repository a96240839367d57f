"""How the service spends the machine's cores: encode workers, and torch threads for each batch.

Two batches side by side on one core each beat one batch at a time on both: a thread of the
service's own (event loop, search) preempting one of a call's two threads stalls the other at
every synchronisation, and the core idles. So on a CPU there is an encode worker per thread, each
encoding on its share; a batch alone, under light traffic, gets every thread, so that a lone
question is answered as fast as the model can. On a GPU one worker feeds the device.

Only the first worker ever gets every thread. Each thread that runs torch on several threads
keeps a pool of OpenMP threads for as long as it lives; with two pools alive, libgomp counts more
threads than cores and makes them sleep between parallel regions instead of spinning, and every
operation of the model then waits for a thread to wake (docs/decisions/one-openmp-pool.md).
For the same reason a servable is loaded on one thread: the thread that loads it lives on.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from faq_core.servable import Servable, serving_model
from faq_core.settings import Settings


@dataclass(frozen=True)
class ThreadPolicy:
    threads: int  # torch threads of a batch alone
    workers: int  # encode workers, each encoding its own batches

    @classmethod
    def of(cls, settings: Settings, device: torch.device) -> ThreadPolicy:
        threads = settings.torch_threads or torch.get_num_threads()
        workers = settings.encode_workers or (threads if device.type == "cpu" else 1)
        return cls(threads=threads, workers=workers)

    @property
    def shared(self) -> int:
        """Torch threads of a batch encoded beside others."""
        return max(1, self.threads // self.workers)

    @staticmethod
    def alone(first_worker: bool, others_encoding: int, loaded: bool) -> bool:
        """Whether a batch about to be encoded has the machine to itself. Under load another
        batch is about to start beside it, which would share the cores with it, and each of its
        threads would wait for the slowest."""
        return first_worker and others_encoding == 0 and not loaded

    def batch_threads(self, alone: bool) -> int:
        """Threads for a batch: every one when it is alone, else its share."""
        return self.threads if alone else self.shared

    @staticmethod
    def use(threads: int) -> None:
        """Run this thread's torch calls on `threads` threads."""
        torch.set_num_threads(threads)


def configure_process(settings: Settings) -> None:
    """The process-wide torch thread count, where the settings fix one."""
    if settings.torch_threads:
        torch.set_num_threads(settings.torch_threads)


def load_on_one_thread(settings: Settings) -> Servable:
    """The servable, loaded (and traced) on one torch thread: the loading thread (the event
    loop's executor) lives on, so it must not keep an OpenMP pool."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return serving_model(settings)
    finally:
        torch.set_num_threads(threads)
