"""Fingerprints of what the simulator produces: a hash of every incident, activation, reception, status span,
broadcast, view and summary figure of a set of shifts, to show that a change moved no result (or which ones it
moved).

    python benchmarks/fingerprints.py                      # this checkout's fingerprints
    python benchmarks/fingerprints.py --baseline ../base   # this checkout's against another's, run by run

Another checkout runs in its own process from its own root, in its own layout (the simulator under `bwclab/sim`,
or at the top as `sim` before the code moved under one package). Floats are hashed by `repr`: exactly.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.checkout import simulator  # noqa: E402

# (name, scenario file, variant, seed or None for the scenario's own, --set overrides)
RUNS: list[tuple[str, str, str | None, int | None, list[str]]] = [
    ("hartford seed 1", "hartford-patrol-shift", None, 1, []),
    ("hartford seed 2", "hartford-patrol-shift", None, 2, []),
    ("hartford seed 3", "hartford-patrol-shift", None, 3, []),
    ("hartford all-triggers seed 4", "hartford-patrol-shift", "all-triggers", 4, []),
    ("hartford manual-only seed 5", "hartford-patrol-shift", "manual-only", 5, []),
    ("west-hartford", "west-hartford-shift", None, None, []),
    ("traffic-stop", "traffic-stop", None, None, []),
    ("taser-partner", "taser-partner", None, None, []),
    ("two-cruisers", "two-cruisers", None, None, []),
    ("metro day, 2 h", "metro-day", None, None, ["shift.duration_h=2"]),
]
Run = tuple[str, str, str | None, int | None, list[str]]
FULL_DAY: Run = ("metro day, 24 h", "metro-day", None, None, [])  # with --full-day: a minute or so a checkout
PARTS = ("incidents", "activations", "receptions", "statuses", "broadcasts", "views", "dispatch", "cameras",
         "summary")


def _plain(x: Any) -> Any:
    """A value as text that differs wherever the value does (floats by repr: every bit)."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: _plain(getattr(x, f.name)) for f in dataclasses.fields(x) if f.name not in ("spec", "ended")}
    if isinstance(x, dict):
        return {repr(k): _plain(v) for k, v in sorted(x.items(), key=lambda kv: repr(kv[0]))}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (set, frozenset)):
        return sorted(repr(v) for v in x)
    if isinstance(x, float):
        return repr(x)
    if hasattr(x, "item"):  # a numpy scalar
        return _plain(x.item())
    return x


def _digest(x: Any) -> str:
    return hashlib.sha256(json.dumps(_plain(x), sort_keys=True).encode()).hexdigest()[:16]


def parts(res: Any, metrics: Any) -> dict[str, Any]:
    """What one shift produced, part by part, in the order it produced it."""
    summary = metrics.summarize(res, metrics.officers_on_scene(res))
    summary.pop("wall_s", None)
    summary.pop("by_officer", None)  # officers.csv's rows: the status spans and incidents, hashed as such
    return {
        "incidents": res.incidents,
        "activations": res.activations,
        "receptions": res.receptions,
        "statuses": res.statuses,
        "broadcasts": [(b.number, b.emitter_body, b.emitter_id, b.kind, b.start, b.end, b.incident, sorted(b.done))
                       for b in res.broadcasts] + [sorted(res.undiscovered)],
        "views": res.views,
        "dispatch": [res.waits_s, res.busy_s],
        "cameras": [[c.recordings for c in res.body_cams], [c.recordings if c else None for c in res.dash_cams],
                    res.asleep_spans, res.compliance],
        "summary": summary,
    }


def fingerprints(root: Path, full_day: bool = False) -> dict[str, dict[str, str]]:
    sim = simulator(root)
    model, metrics, scenario = sim["model"], sim["metrics"], sim["scenario"]
    out = {}
    for name, file, variant, seed, sets in [*RUNS, *([FULL_DAY] if full_day else [])]:
        sc = scenario.load_scenario(root / "scenarios" / f"{file}.yaml", sets, variant=variant)
        res = model.run_shift(sc, seed)
        got = {k: _digest(v) for k, v in parts(res, metrics).items()}
        got["all"] = _digest(sorted(got.items()))
        got["events"] = str(res.events)
        out[name] = got
        print(f"{name:32s} {got['all']}  events {res.events}", file=sys.stderr, flush=True)
    return out


def of_checkout(root: Path, full_day: bool = False) -> dict[str, dict[str, str]]:
    """Fingerprints of another checkout, in its own process, from its own root."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, str(HERE), "--root", str(root), "--json", "-",
                          *(["--full-day"] if full_day else [])], cwd=root, env=env, capture_output=True, text=True,
                         check=True)
    result: dict[str, dict[str, str]] = json.loads(out.stdout)
    return result


def compare(ours: dict[str, dict[str, str]], theirs: dict[str, dict[str, str]]) -> bool:
    same_all = True
    print(f"{'run':32s} {'this checkout':16s} {'baseline':16s} verdict")
    for name in ours:
        a, b = ours[name], theirs.get(name, {})
        differ = [p for p in PARTS if a.get(p) != b.get(p)]
        events = "" if a["events"] == b.get("events") else f" (events {b.get('events')} -> {a['events']})"
        verdict = "SAME" if not differ else "DIFFERENT: " + ", ".join(differ)
        same_all = same_all and not differ
        print(f"{name:32s} {a['all']:16s} {b.get('all', '-'):16s} {verdict}{events}")
    return same_all


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout to fingerprint (default: this one)")
    ap.add_argument("--baseline", type=Path, help="another checkout: fingerprint both and compare, run by run")
    ap.add_argument("--json", help="write the fingerprints as JSON to this file ('-': standard output)")
    ap.add_argument("--full-day", action="store_true", help="the whole metro day as well")
    args = ap.parse_args()
    if args.baseline is not None:
        theirs = of_checkout(args.baseline.resolve(), args.full_day)
        ours = of_checkout(args.root.resolve(), args.full_day)
        sys.exit(0 if compare(ours, theirs) else 1)
    got = fingerprints(args.root.resolve(), args.full_day)
    text = json.dumps(got, indent=1)
    if args.json == "-":
        print(text)
    elif args.json:
        Path(args.json).write_text(text + "\n")
    else:
        for name, g in got.items():
            print(f"{name:32s} {g['all']}")


if __name__ == "__main__":
    main()
