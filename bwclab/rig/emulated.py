"""Start and stop an emulated bench for a run, as its own process (`python -m emulator`, docs/bench.md).

The rig never imports the emulator: it runs it and reads the ports it publishes in `resources.json`,
exactly as a lab writes a real bench's ports into the bench file. The emulator watches a pipe whose
other end only this process holds: when this process dies, even by kill -9, the pipe closes and the
emulator (with its clip renderer) shuts down within a second. So it runs in a session of its own: a
Ctrl-C at the terminal reaches the rig, which ends its run on a bench that is still there, and the
bench goes when the rig stops it (or dies).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bwclab.core.config import ConfigError
from bwclab.core.resources import Resources, read_resources
from bwclab.rig.interfaces import BenchLost


class EmulatorProcess(contextlib.AbstractContextManager["EmulatorProcess"]):
    """BenchLost when the emulated bench does not come up: no trial can be made on it."""

    def __init__(self, bench: Path, state_dir: Path, faults: Path | None = None, start_timeout_s: float = 30.0) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        path = state_dir / "resources.json"
        path.unlink(missing_ok=True)  # never read a file a killed emulator left behind
        lifeline_r, self._lifeline = os.pipe()
        cmd = [sys.executable, "-m", "bwclab.emulator", "--bench", str(bench), "--state-dir", str(state_dir),
               "--watch-fd", str(lifeline_r)]
        if faults is not None:
            cmd += ["--faults", str(faults)]
        self.log_path = state_dir / "emulator.log"
        self._log = self.log_path.open("ab")
        # our own interpreter and module, as an argument list: no shell
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, pass_fds=(lifeline_r,),  # noqa: S603
                                     start_new_session=True)
        os.close(lifeline_r)
        try:
            self.resources: Resources = self._published(path, start_timeout_s)
        except BaseException:  # a failed start, or Ctrl-C meanwhile: never leave it running
            self.stop()
            raise

    def _published(self, path: Path, timeout_s: float) -> Resources:
        deadline = time.monotonic() + timeout_s
        while not path.exists():
            if self.proc.poll() is not None:
                raise BenchLost(f"the emulated bench did not start:\n{self.log_path.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                raise BenchLost(f"the emulated bench did not publish {path} within {timeout_s:.0f} s")
            time.sleep(0.05)
        try:
            resources = read_resources(path)
        except ConfigError as exc:
            raise BenchLost(f"the emulated bench published an unreadable {path}: {exc}") from None
        if resources.pid != self.proc.pid or not resources.alive():
            raise BenchLost(f"{path} was not written by the emulator this run started (pid {resources.pid})")
        return resources

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> int:
        """Stop it (SIGTERM, then SIGKILL after 10 s) and wait for it; its exit status. Safe to call twice."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(OSError):
            os.close(self._lifeline)
        self._log.close()
        return int(self.proc.returncode)
