"""A large city's year through `bwclab sim calibrate`: about 1,000,000 CAD rows and 2,000,000 recordings, made from
a stated truth (bwclab/records/sample.py) in a temporary folder by a process of its own, then calibrated by
another. Measures the calibration's wall time, CPU time and peak RSS (target: under 60 s and 2 GB on this 2-core
machine) and checks that the figures found are the truth's.

The peak RSS is the calibrating process's own high-water mark (VmHWM, read by the process as it ends): a child's
getrusage() maximum would also count the pages of the process it was forked from.

`python -m benchmarks.records_scale [--scale 1.0] [--keep DIR]` prints the figures as JSON; `--scale 0.1` makes a
tenth of the city (a quick look). The truth: the sample department's call types (fixtures/records/sample-truth.yaml)
at 7.8 times its calls, 600 units, and recordings between calls to make two per response."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bwclab.core.config import load
from bwclab.records.sample import Truth
from bwclab.records.yamltext import dump

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "fixtures" / "records"


def city(scale: float) -> Truth:
    sample = load(Truth, RECORDS / "sample-truth.yaml")
    data = sample.model_dump()
    data.update(seed=2027, start="2026-01-01T00:00:00", days=365, units=max(30, round(600 * scale)),
                calls_per_hour=[round(r * 7.8 * scale, 3) for r in sample.calls_per_hour], off_call_per_gap=1.45)
    return Truth.model_validate(data)


# `bwclab sim calibrate ARGS...` run in this process, which then reports its own peak RSS on stderr.
CALIBRATE = """import sys
from bwclab.cli import app
try:
    app(sys.argv[1:], prog_name="bwclab")
except SystemExit as done:
    if done.code:
        raise
status = open("/proc/self/status").read()
print("VmHWM", next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")), file=sys.stderr)
"""


def made(folder: Path, truth: Truth) -> float:
    """Write the truth beside the data and make the exports from it in a process of their own; its wall time."""
    (folder / "city-truth.yaml").write_text("\n".join(dump(truth.model_dump(), {}, {})) + "\n")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bwclab.records.sample", str(folder / "city-truth.yaml"),
                    str(folder / "city")], check=True, capture_output=True)
    return time.perf_counter() - t0


def calibrate(folder: Path) -> dict[str, float]:
    """One `bwclab sim calibrate` in its own process: wall time, CPU time and its peak RSS."""
    cmd = [sys.executable, "-c", CALIBRATE, "sim", "calibrate", "--cad", str(folder / "city-cad.csv"),
           "--audit", str(folder / "city-audit.csv"), "--scenario", str(RECORDS / "sample-base.yaml"),
           "--types", str(RECORDS / "types-sample.yaml"), "--out", str(folder / "calibration"), "--overwrite"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"})
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"calibrate failed ({r.returncode}):\n{r.stderr[-3000:]}")
    hwm_kb = int(r.stderr.split("VmHWM")[-1].split()[0])
    return {"wall_s": round(wall, 2), "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime
                                                      - before.ru_stime, 2), "peak_rss_mb": round(hwm_kb / 1024, 1)}


def found(folder: Path, truth: Truth) -> dict[str, object]:
    cal = json.loads((folder / "calibration" / "calibration.json").read_text())
    want = sum(truth.calls_per_hour) / 24
    shares = sum(t.share for t in truth.call_types.values())
    return {
        "calls_per_hour": {"truth": round(want, 3), "found": cal["calls_per_hour"]},
        "share_error_max": round(max(abs(cal["call_types"][k]["share"]["mean"] - t.share / shares)
                                     for k, t in truth.call_types.items()), 4),
        "time_on_scene_error_max": round(max(abs(cal["call_types"][k]["time_on_scene_min"]["mean"]
                                                 / t.time_on_scene_min.mean - 1) for k, t in truth.call_types.items()),
                                         4),
        "compliance": {k: cal["compliance"][k] for k in truth.call_types},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0, help="the city's size against the target's (1.0)")
    p.add_argument("--keep", type=Path, help="make the data here and keep it (default: a temporary folder)")
    p.add_argument("--runs", type=int, default=1, help="calibrate the same data this many times")
    a = p.parse_args(argv)
    truth = city(a.scale)
    with tempfile.TemporaryDirectory(prefix="records-scale-") as tmp:
        folder = a.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        made_s = made(folder, truth) if not (folder / "city-audit.csv").exists() else None
        sizes = {f: round((folder / f).stat().st_size / 1e6, 1) for f in ("city-cad.csv", "city-audit.csv")}
        runs = []
        for _ in range(a.runs):
            load_before = os.getloadavg()[0]
            runs.append({**calibrate(folder), "load_average_before": round(load_before, 2)})
        cal = json.loads((folder / "calibration" / "calibration.json").read_text())
        out = {"cad_rows": cal["records"]["responses"], "recordings": cal["records"]["recordings"], "file_mb": sizes,
               "made_in_s": None if made_s is None else round(made_s, 1), "calibrate": runs,
               "cores": os.cpu_count(), "targets": {"wall_s": 60, "peak_rss_mb": 2048}, "found": found(folder, truth)}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
