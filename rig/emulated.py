"""Start and stop an emulated bench for a run, through the `bwclab bench emulate` command.

The rig never imports the emulator: it runs it as another process and reads the ports it
publishes in `resources.json`, exactly as a lab publishes a real bench's ports in the bench file.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rig.interfaces import DriverError


class EmulatedBench:
    def __init__(self, bench: Path, state_dir: Path, faults: Path | None = None, start_timeout_s: float = 30.0) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "bwclab", "bench", "emulate", "--bench", str(bench), "--state-dir", str(state_dir)]
        if faults is not None:
            cmd += ["--faults", str(faults)]
        self.log_path = state_dir / "emulator.log"
        self._log = self.log_path.open("ab")
        # our own interpreter and command, as an argument list: no shell
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT)  # noqa: S603
        resources = state_dir / "resources.json"
        deadline = time.monotonic() + start_timeout_s
        while not resources.exists():
            if self.proc.poll() is not None:
                self._log.close()
                raise DriverError(f"the emulated bench did not start:\n{self.log_path.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                self.stop()
                raise DriverError(f"the emulated bench did not publish {resources} within {start_timeout_s:.0f} s")
            time.sleep(0.05)
        self.resources: dict[str, Any] = json.loads(resources.read_text(encoding="utf-8"))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return int(self.proc.returncode)
