"""Simulator benchmarks, measured side by side in one run on this machine (`tox -e perf`).

Figures: the Hartford shift's wall time (median of 21) and events per second; the model's
cost per SimPy event as a ratio to a bare SimPy loop of timeouts (per as many events, timed over ten times as
many; medians of 21 each); the metro day's wall time and peak memory (its own process); wall time
against officer count; a 200-shift sweep on 2 local workers against serial.
Targets: Hartford < 1 s; cost per event < 10x bare SimPy and metro day < 20 s and < 2 GB; sweep speed-up >= 1.7x
on 2 workers. Results go to results/benchmarks/sim.json.

`--baseline PATH` measures only the Hartford shift (median of 21) and the metro day, of this checkout and of the one
at PATH side by side (each in a process of its own, interleaved): a change to the model may cost at most 1.3x what
the baseline does. Results go to results/benchmarks/sim_baseline.json.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import gc
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import simpy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import checkout  # noqa: E402
from bwclab.core.config import read_yaml  # noqa: E402
from bwclab.sim.heap import collector_paused  # noqa: E402
from bwclab.sim.model import run_shift  # noqa: E402
from bwclab.sim.replicate import rep_seeds  # noqa: E402
from bwclab.sim.scenario import load_scenario, scenario_data  # noqa: E402
from bwclab.sim.sweep import run_task  # noqa: E402

HARTFORD = ROOT / "scenarios" / "hartford-patrol-shift.yaml"
METRO = ROOT / "scenarios" / "metro-day.yaml"


BARE_SCALE = 10  # the bare loop runs 10x the model's events: a 2-4 ms loop is too short to time steadily


def bare_simpy(events: int, procs: int = 37) -> float:
    """Seconds per `events` timeouts spread over `procs` looping processes, timed over BARE_SCALE times as many,
    with the collector paused as the model runs."""
    env = simpy.Environment()
    per = events * BARE_SCALE // procs

    def loop(env: simpy.Environment, d: float):
        for _ in range(per):
            yield env.timeout(d)

    for i in range(procs):
        env.process(loop(env, 1.0 + i / procs))
    with collector_paused():
        t0 = time.perf_counter()
        env.run()
        elapsed = time.perf_counter() - t0
    return elapsed * events / (per * procs)


def hartford(reps: int = 21) -> dict[str, Any]:
    sc = load_scenario(HARTFORD)
    model, bare, events = [], [], 0
    for _ in range(reps):  # interleaved, so both see the same machine state
        res = run_shift(sc)
        events = res.events
        model.append(res.wall_s)
        bare.append(bare_simpy(events))
    m, b = statistics.median(model), statistics.median(bare)
    return {"wall_s_median": m, "wall_s_all": model, "events": events, "events_per_s": events / m,
            "bare_simpy_s_median": b, "cost_per_event_ratio": m / b}


def metro() -> dict[str, Any]:
    return checkout.metro(ROOT)


def side_by_side(baseline: Path, reps: int = 21, metro_rounds: int = 2) -> dict[str, Any]:
    """This checkout against another (`--baseline`), each in a process of its own: the Hartford shift `reps` times
    each, interleaved, so both see the same machine state (medians); then the metro day `metro_rounds` times each,
    in the order this, other, other, this, ... (each its own process)."""
    roots = {"this": ROOT, "baseline": baseline.resolve()}
    workers = {k: checkout.Worker(r) for k, r in roots.items()}
    walls: dict[str, list[float]] = {k: [] for k in roots}
    cpus: dict[str, list[float]] = {k: [] for k in roots}
    events: dict[str, int] = {}
    try:
        for i in range(reps):
            for k in (("this", "baseline") if i % 2 == 0 else ("baseline", "this")):
                got = workers[k].hartford()
                walls[k].append(got["wall_s"])
                cpus[k].append(got["cpu_s"])
                events[k] = got["events"]
    finally:
        for w in workers.values():
            w.close()
    days: dict[str, list[dict[str, Any]]] = {k: [] for k in roots}
    for i in range(metro_rounds):
        for k in (("this", "baseline") if i % 2 == 0 else ("baseline", "this")):
            days[k].append(checkout.metro(roots[k]))
            print(k, json.dumps(days[k][-1]), flush=True)
    out: dict[str, Any] = {"baseline_root": str(roots["baseline"])}
    for k in roots:
        out[k] = {"hartford_wall_s_median": statistics.median(walls[k]), "hartford_wall_s_all": walls[k],
                  "hartford_cpu_s_median": statistics.median(cpus[k]), "hartford_events": events[k],
                  "metro_wall_s": [d["wall_s"] for d in days[k]],
                  "metro_wall_s_median": statistics.median(d["wall_s"] for d in days[k]) if days[k] else None,
                  "metro_peak_rss_mb": max((d["peak_rss_mb"] for d in days[k]), default=None)}
    this, base = out["this"], out["baseline"]
    out["ratio"] = {"hartford": this["hartford_wall_s_median"] / base["hartford_wall_s_median"],
                    "hartford_cpu": this["hartford_cpu_s_median"] / base["hartford_cpu_s_median"],
                    "metro": this["metro_wall_s_median"] / base["metro_wall_s_median"] if days["this"] else None}
    return out


def scaling() -> list[dict[str, Any]]:
    rows = []
    for n in (100, 1000, 10000):
        f = n / 37
        sets = [f"fleet.officers={n}", f"calls.officer_initiated_per_hour={1.57 * f:.3f}",
                f"area.width_mi={4.2 * f ** 0.5:.3f}", f"area.height_mi={4.2 * f ** 0.5:.3f}"]
        data = read_yaml(HARTFORD)
        sets.append("calls.per_hour=[" + ",".join(f"{r * f:.3f}" for r in data["calls"]["per_hour"]) + "]")
        res = run_shift(load_scenario(HARTFORD, sets))
        rows.append({"officers": n, "wall_s": res.wall_s, "events": res.events, "calls": len(res.incidents)})
    return rows


def sweep(shifts: int = 200) -> dict[str, Any]:
    data = scenario_data(HARTFORD)  # as `sim sweep` reads it: the named variants taken out
    seeds = rep_seeds(1, shifts)
    t0 = time.perf_counter()
    serial = [run_task(data, {}, s, str(HARTFORD)) for s in seeds]
    t_serial = time.perf_counter() - t0
    gc.collect()
    gc.freeze()
    t0 = time.perf_counter()
    with cf.ProcessPoolExecutor(max_workers=2) as pool:
        parallel = list(pool.map(run_task, [data] * shifts, [{}] * shifts, seeds, [str(HARTFORD)] * shifts,
                                 chunksize=4))
    t_par = time.perf_counter() - t0
    same = [{k: v for k, v in a.items() if k != "wall_s"} for a in serial] == \
           [{k: v for k, v in b.items() if k != "wall_s"} for b in parallel]
    return {"shifts": shifts, "serial_s": t_serial, "two_workers_s": t_par, "speedup": t_serial / t_par,
            "identical_results": same}


def plain(x: Any) -> Any:
    """numpy scalars (a comparison of numpy floats is a numpy bool) as plain Python values."""
    return x.item() if hasattr(x, "item") else str(x)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="skip the metro day and use a 40-shift sweep")
    ap.add_argument("--only", choices=["sim", "emulator", "fuzz", "rig", "hil"], help="run one group of benchmarks")
    ap.add_argument("--baseline", type=Path, metavar="PATH",
                    help="only the Hartford shift and the metro day, side by side with the checkout at PATH")
    ap.add_argument("--reps", type=int, default=21, help="Hartford shifts per checkout with --baseline (default 21)")
    args = ap.parse_args()
    dest = ROOT / "results" / "benchmarks"
    dest.mkdir(parents=True, exist_ok=True)
    if args.baseline is not None:
        vs = side_by_side(args.baseline, args.reps, metro_rounds=0 if args.quick else 2)
        print(json.dumps(vs, indent=1), flush=True)
        (dest / "sim_baseline.json").write_text(json.dumps(vs, indent=2) + "\n")
        print(f"written to {dest / 'sim_baseline.json'}")
        return
    if args.only in (None, "emulator"):
        from benchmarks import emulator_timing

        emu = emulator_timing.run()
        print(json.dumps(emu, indent=1), flush=True)
        (dest / "emulator.json").write_text(json.dumps(emu, indent=2) + "\n")
        print(f"written to {dest / 'emulator.json'}")
    if args.only in (None, "fuzz"):
        from benchmarks import emulator_fuzz

        fz = emulator_fuzz.run(2_000 if args.quick else 10_000)
        print(json.dumps(fz, indent=1), flush=True)
        (dest / "fuzz.json").write_text(json.dumps(fz, indent=2) + "\n")
        print(f"written to {dest / 'fuzz.json'}")
    if args.only in (None, "rig"):
        from benchmarks import rig_accuracy

        rig = rig_accuracy.run(seeds=50 if args.quick else 200, precise=not args.quick)
        (dest / "rig.json").write_text(json.dumps(rig, indent=2, default=plain) + "\n")  # written before printed
        print(json.dumps(rig, indent=1, default=plain), flush=True)
        print(f"written to {dest / 'rig.json'}")
    if args.only in (None, "hil"):
        from benchmarks import hil_timing

        hil = hil_timing.run()
        (dest / "hil.json").write_text(json.dumps(hil, indent=2) + "\n")
        print(json.dumps(hil, indent=1), flush=True)
        print(f"written to {dest / 'hil.json'}")
    if args.only in ("emulator", "fuzz", "rig", "hil"):
        return
    # the sweep runs first: workers forked from a parent holding a 10,000-officer model
    # would inherit (and garbage-collect) all of it
    out: dict[str, Any] = {"sweep": sweep(40 if args.quick else 200)}
    print(json.dumps(out["sweep"], indent=1), flush=True)
    out["hartford"] = hartford()
    print(json.dumps(out["hartford"], indent=1), flush=True)
    out["scaling"] = scaling()
    print(json.dumps(out["scaling"], indent=1), flush=True)
    if not args.quick:
        out["metro_day"] = metro()
        print(json.dumps(out["metro_day"], indent=1), flush=True)
    (dest / "sim.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"written to {dest / 'sim.json'}")


if __name__ == "__main__":
    main()
