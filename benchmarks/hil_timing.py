"""Hardware in the loop at speed 1 on the realistic emulated bench (30 s broadcasts, 30 s buffers), each replay
`bwclab hil run` in its own process as a user runs it (`python benchmarks/run.py --only hil`):

- three cameras: the window of the Hartford shift (seed 2019) around incident 82, whose three officers are
  mapped to the bench's three cameras: lateness of every bench event (p50, p99, max), target p99 <= 5 ms;
- a 4-minute traffic stop (`--until` the window's start + 240 s): host seconds the window took against its
  length, target at most 2 s over.

Figures go to results/benchmarks/hil.json. About 11 minutes, most of it the two replays in real time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bwclab.hil.run import plan  # noqa: E402

REALISTIC = ROOT / "fixtures" / "emulated-realistic.yaml"


def replay(args: list[str], out: Path) -> dict[str, Any]:
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "bwclab", "hil", "run", "--bench", str(REALISTIC), "--out", str(out),
                           *args], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    took = time.monotonic() - t0
    hil = json.loads((out / "hil.json").read_text())
    return {"args": args, "exit": done.returncode, "valid": hil["valid"], "reason": hil["reason"],
            "lateness_ms": hil["lateness_ms"], "feedback_lag_ms": hil["feedback_lag_ms"], "wall": hil["wall"],
            "command_s": round(took, 2),
            "cameras": {s: {"officer": c["officer"], "consistent_with_model": c["consistent_with_model"],
                            "first_activation_s": c["activations"][0].get("observed_s")}
                        for s, c in hil["cameras"].items()}}


def run() -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        hartford = ["--scenario", "hartford-patrol-shift", "--window", "82", "--seed", "2019"]
        out["three_cameras"] = replay(hartford, Path(tmp) / "hartford")
        out["three_cameras"]["target"] = "lateness p99 <= 5 ms"
        out["three_cameras"]["met"] = out["three_cameras"]["lateness_ms"]["p99"] <= 5.0
        start = plan(ROOT / "scenarios" / "traffic-stop.yaml", REALISTIC, Path(tmp) / "probe", None, 1.0, None, None,
                     None, None, None).window.start_s
        stop = ["--scenario", "traffic-stop", "--until", f"{start + 240:.6f}"]
        out["four_minute_stop"] = replay(stop, Path(tmp) / "stop")
        out["four_minute_stop"]["target"] = "the 240 s window in at most 242 s"
        out["four_minute_stop"]["met"] = out["four_minute_stop"]["wall"]["replay_s"] <= 242.0
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
