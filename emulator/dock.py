"""The dock: clips are rendered in a worker process and land in each camera's dock folder."""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from typing import Any

from emulator.clips import ClipJob, render, warm_up
from emulator.loop import Loop


class Renderer:
    def __init__(self, loop: Loop) -> None:
        self.loop = loop
        self.pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_ignore_stop_signals)
        self.pending: set[Future[dict[str, Any]]] = set()
        self.pool.submit(warm_up)

    def submit(self, job: ClipJob, done: Callable[[dict[str, Any] | None, str | None], None]) -> None:
        fut = self.pool.submit(render, job)
        self.pending.add(fut)

        def finished(f: Future[dict[str, Any]]) -> None:
            self.pending.discard(f)
            err = f.exception()
            self.loop.call_soon_threadsafe(done, None if err else f.result(), repr(err) if err else None)

        fut.add_done_callback(finished)

    def close(self, timeout_s: float) -> None:
        if self.pending:
            wait(list(self.pending), timeout=timeout_s)
        workers = dict(getattr(self.pool, "_processes", None) or {})
        self.pool.shutdown(wait=False, cancel_futures=True)
        for proc in workers.values():  # a render still running is abandoned, never waited for
            if proc.is_alive():
                proc.kill()


def _ignore_stop_signals() -> None:
    """Ctrl-C reaches the whole process group; the worker finishes its clip and leaves when told."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
