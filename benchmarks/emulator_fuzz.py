"""Fuzzing the emulated bench: 10,000 generated lines per protocol (attenuator, scope, supply on TCP;
Numato adapter and camera console on ptys), the same generators as the CI tests
(tests/integration/fuzzing.py). After each protocol: does every device still answer, how large is the
emulator's memory against its start. Results go to results/benchmarks/fuzz.json."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.integration.fuzzing import answers, fuzz, rss_kb  # noqa: E402
from tests.integration.harness import Emulator  # noqa: E402

PROTOCOLS = ("attenuator", "scope", "psu", "numato", "console")


def run(lines: int = 10_000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        emu = Emulator(Path(tmp))
        try:
            identity = answers(emu)
            start_kb = rss_kb(emu.proc.pid)
            out: dict[str, Any] = {"lines_per_protocol": lines, "rss_start_mb": start_kb / 1024, "protocols": {}}
            for protocol in PROTOCOLS:
                t0 = time.perf_counter()
                try:
                    sent, error = fuzz(emu, protocol, lines), ""
                except Exception as exc:  # a crash is a finding, not the benchmark's end
                    sent, error = -1, f"{type(exc).__name__}: {exc}"
                alive = emu.proc.poll() is None
                still = alive and answers(emu) == identity
                out["protocols"][protocol] = {"lines": sent, "seconds": time.perf_counter() - t0, "error": error,
                                              "alive": alive, "answers": still,
                                              "rss_mb": rss_kb(emu.proc.pid) / 1024 if alive else None}
            out["crashes"] = sum(not p["alive"] or not p["answers"] or bool(p["error"])
                                 for p in out["protocols"].values())
            return out
        finally:
            emu.stop()


if __name__ == "__main__":
    import json

    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000), indent=1))
