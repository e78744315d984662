"""Start and stop an emulated bench for a run, as its own process (`python -m emulator`, docs/bench.md).

The rig never imports the emulator: it runs it and reads the ports it publishes in `resources.json`,
exactly as a lab writes a real bench's ports into the bench file. The emulator watches a pipe whose
other end only this process holds: when this process dies, even by kill -9, the pipe closes and the
emulator (with its clip renderer) shuts down within a second.
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
from bwclab.rig.interfaces import DriverError


class EmulatorProcess:
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
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, pass_fds=(lifeline_r,))  # noqa: S603
        os.close(lifeline_r)
        deadline = time.monotonic() + start_timeout_s
        while not path.exists():
            if self.proc.poll() is not None:
                self.stop()
                raise DriverError(f"the emulated bench did not start:\n{self.log_path.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                self.stop()
                raise DriverError(f"the emulated bench did not publish {path} within {start_timeout_s:.0f} s")
            time.sleep(0.05)
        try:
            self.resources: Resources = read_resources(path)
        except ConfigError as exc:
            self.stop()
            raise DriverError(f"the emulated bench published an unreadable {path}: {exc}") from None
        if self.resources.pid != self.proc.pid or not self.resources.alive():
            self.stop()
            raise DriverError(f"{path} was not written by the emulator this run started (pid {self.resources.pid})")

    def stop(self) -> int:
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
