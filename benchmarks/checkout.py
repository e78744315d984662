"""The simulator of one checkout, run in its own process, for measurements side by side with another's.

    python benchmarks/checkout.py --root PATH metro      # the metro day once: its figures as JSON
    python benchmarks/checkout.py --root PATH serve      # one Hartford shift per line read, its figures per line

A checkout has the simulator under `bwclab/sim`, or at the top as `sim` (before the code moved under one package);
either is imported from `--root`, which the caller also makes the working folder and PYTHONPATH.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve()


def simulator(root: Path) -> dict[str, ModuleType]:
    """The model, metrics and scenario modules of the checkout at `root`, in its layout."""
    sys.path.insert(0, str(root))
    pkg = "bwclab.sim" if (root / "bwclab" / "sim").is_dir() else "sim"
    return {m: importlib.import_module(f"{pkg}.{m}") for m in ("model", "metrics", "scenario")}


def _metro(root: Path) -> dict[str, Any]:
    sim = simulator(root)
    sc = sim["scenario"].load_scenario(root / "scenarios" / "metro-day.yaml")
    t0 = time.perf_counter()
    r = sim["model"].run_shift(sc)
    return {"wall_s": r.wall_s, "built_and_run_s": time.perf_counter() - t0, "events": r.events,
            "incidents": len(r.incidents), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _serve(root: Path) -> None:
    """A Hartford shift (the scenario's own seed) for every line read; one JSON line of its figures back: its wall
    time, the process's CPU time for it (building included; less disturbed by other work on the machine), events."""
    sim = simulator(root)
    sc = sim["scenario"].load_scenario(root / "scenarios" / "hartford-patrol-shift.yaml")
    for _line in sys.stdin:
        cpu = time.process_time()
        r = sim["model"].run_shift(sc)
        print(json.dumps({"wall_s": r.wall_s, "cpu_s": time.process_time() - cpu, "events": r.events}), flush=True)


class Worker:
    """A checkout's simulator in a process of its own, running a Hartford shift when asked."""

    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, str(HERE), "--root", str(root), "serve"], cwd=root,
                                     env={**os.environ, "PYTHONPATH": str(root)}, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def hartford(self) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("hartford\n")
        self.proc.stdin.flush()
        got: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return got

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def metro(root: Path) -> dict[str, Any]:
    """The metro day of the checkout at `root`, in a process of its own (its peak memory is its own)."""
    out = subprocess.run([sys.executable, str(HERE), "--root", str(root), "metro"], cwd=root,
                         env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("what", choices=["metro", "serve"])
    args = ap.parse_args()
    if args.what == "metro":
        print(json.dumps(_metro(args.root.resolve())))
    else:
        _serve(args.root.resolve())


if __name__ == "__main__":
    main()
