"""The dock: clips are rendered in a worker process (`bwclab/emulator/render_worker.py`) and land in each camera's
dock folder. The worker is fed over a pipe and dies with the emulator."""

from __future__ import annotations

import contextlib
import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from bwclab.emulator.clips import ClipJob
from bwclab.emulator.loop import Loop

Done = Callable[[dict[str, Any] | None, str | None], None]


class Renderer:
    def __init__(self, loop: Loop) -> None:
        self.loop = loop
        # our own interpreter and module, as an argument list: no shell
        self.proc = subprocess.Popen([sys.executable, "-m", "bwclab.emulator.render_worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.pending: dict[int, Done] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name="clip-results", daemon=True)
        self._reader.start()

    def submit(self, job: ClipJob, done: Done) -> None:
        job_id = next(self._ids)
        with self._lock:
            self.pending[job_id] = done
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps([job_id, asdict(job)]) + "\n")
            self.proc.stdin.flush()
        except (OSError, ValueError) as exc:
            self._finish(job_id, None, f"renderer gone: {exc}")

    def _finish(self, job_id: int, meta: dict[str, Any] | None, err: str | None) -> None:
        with self._lock:
            done = self.pending.pop(job_id, None)
        if done is not None:
            self.loop.call_soon_threadsafe(done, meta, err)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(ValueError, TypeError):
                job_id, meta, err = json.loads(line)
                self._finish(int(job_id), meta, err)
        for job_id in list(self.pending):
            self._finish(job_id, None, "renderer exited")

    def close(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while self.pending and time.monotonic() < deadline:
            time.sleep(0.02)
        with contextlib.suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:  # a render still running is abandoned, never waited for
            self.proc.kill()
            self.proc.wait()
