"""Sweeps: every point of a parameter grid run with the same replications (common random
numbers), on local worker processes or on a Dask cluster; each point's headline figures with their 95% CI,
and each point's paired difference from the first point (replication by replication), with its 95% CI."""

from __future__ import annotations

import concurrent.futures as cf
import copy
import csv
import itertools
import os
import types
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bwclab.core.config import ConfigError, apply_overrides, validate
from bwclab.core.profile import DeviceProfile
from bwclab.sim.dists import Dist
from bwclab.sim.metrics import CAUSES, officers_on_scene, summarize
from bwclab.sim.model import run_shift
from bwclab.sim.profile import apply_profile
from bwclab.sim.replicate import HEADLINE, figure_range, mean_ci, paired, rep_seeds
from bwclab.sim.runfolder import write_csv, write_json
from bwclab.sim.scenario import Scenario, scenario_data

METRICS = (*HEADLINE, "latency_p95_s", "storage_gb")
ANY = "<name>"  # a key of a mapping (a call type, a trigger kind, a mount) in a --vary key
NOT_VARIED = frozenset({"name", "description", "seed", "variant", "script"})  # what names or scripts a run


def _fields_of(model: type[BaseModel], prefix: str) -> Iterator[str]:
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        if prefix or name not in NOT_VARIED:
            yield from _keys_of(field.annotation, key)


def _keys_of(ann: Any, key: str) -> Iterator[str]:
    """The dotted keys under a field: itself for a value given as one scalar (a number, a flag, a choice, a
    distribution's constant), the fields of a model or of each model a union may be, a mapping's entries as
    <name>; nothing for a list (a sweep's values are split at commas)."""
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is typing.Annotated:
        yield from _keys_of(args[0], key)
    elif origin in (typing.Union, types.UnionType):
        kids = [a for a in args if a is not type(None)]
        seen: list[str] = []
        for kid in kids:
            seen += [k for k in _keys_of(kid, key) if k not in seen]
        yield from seen
    elif origin is dict:
        yield from _keys_of(args[1], f"{key}.{ANY}")
    elif origin in (list, tuple, set, frozenset):
        return
    elif isinstance(ann, type) and issubclass(ann, BaseModel) and not issubclass(ann, Dist):
        yield from _fields_of(ann, key + ".")
    else:
        yield key


def vary_keys() -> list[str]:
    """Every key `--vary` accepts, dotted, from the Scenario model itself (a mapping's entries as <name>)."""
    return list(dict.fromkeys(_fields_of(Scenario, "")))


def _matches(key: str, pattern: str) -> bool:
    got, want = key.split("."), pattern.split(".")
    return len(got) == len(want) and all(w in (g, ANY) for g, w in zip(got, want, strict=True))


def check_keys(vary: list[tuple[str, list[str]]], source: str, profile: DeviceProfile | None = None) -> None:
    """Refuse a --vary key that names no scenario setting, and a detection key a profile's curve replaces."""
    known = vary_keys()
    bad = [f"--vary {k}: not a scenario setting a sweep can vary (bwclab sim sweep --help lists them)"
           for k, _ in vary if not any(_matches(k, p) for p in known)]
    if profile is not None and profile.detection:
        bad += [f"--vary {k}: the profile's measured detection curve replaces signal.detection; vary one or the "
                "other" for k, _ in vary if k.startswith("signal.detection.")]
    if bad:
        raise ConfigError(source, bad)


def parse_vary(items: list[str], source: str) -> list[tuple[str, list[str]]]:
    out = []
    for item in items:
        key, sep, values = item.partition("=")
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key or not vals:
            raise ConfigError(source, [f"--vary {item!r}: expected key=v1,v2,..."])
        out.append((key.strip(), vals))
    return out


def grid(vary: list[tuple[str, list[str]]]) -> list[dict[str, str]]:
    keys = [k for k, _ in vary]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in vary))]


def point_scenario(data: dict[str, Any], point: dict[str, str], source: str,
                   profile: DeviceProfile | None = None) -> Scenario:
    d = apply_overrides(copy.deepcopy(data), [f"{k}={v}" for k, v in point.items()], source)
    sc = validate(Scenario, d, f"{source} with {', '.join(f'{k}={v}' for k, v in point.items())}")
    return sc if profile is None else apply_profile(sc, profile)


def run_task(data: dict[str, Any], point: dict[str, str], seed: int, source: str,
             profile: DeviceProfile | None = None) -> dict[str, Any]:
    """One replication at one point; runs in a worker process. Returns its metrics."""
    res = run_shift(point_scenario(data, point, source, profile), seed)
    s = summarize(res, officers_on_scene(res))
    row = {k: s[k] for k in (*HEADLINE, "storage_gb", "incidents", "events", "wall_s")}
    row["latency_p95_s"] = s["latency_s"]["p95"]
    row.update({f"missed_{c}": s["missed"][c] for c in CAUSES})
    return row


@contextmanager
def executor(workers: int, scheduler: str | None) -> Iterator[cf.Executor]:
    if scheduler:
        from distributed import Client

        client = Client(scheduler, timeout="10s")
        try:
            yield client.get_executor()
        finally:
            client.close()
    else:
        with cf.ProcessPoolExecutor(max_workers=workers) as pool:
            yield pool


def run_sweep(
    scenario_path: Path,
    vary: list[str],
    reps: int,
    out: Path,
    seed: int | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    overrides: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    variant: str | None = None,
    profile: DeviceProfile | None = None,
    device: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run every point's replications, write sweep.csv (a row per point and replication, on disk as each is
    done), sweep_summary.csv and sweep.json (each point's figures and paired differences from the first point)
    and the plots. `profile`: a measured device profile applied at every point (`device`: its record)."""
    source = str(scenario_path)
    data = scenario_data(scenario_path, variant, overrides)
    parsed = parse_vary(vary, source)
    # refused in turn: a value YAML cannot build, a key no sweep varies, a point the model refuses
    apply_overrides(copy.deepcopy(data), [f"{k}={v}" for k, vals in parsed for v in vals], source)
    check_keys(parsed, source, profile)
    points = grid(parsed)
    base = validate(Scenario, data, source)
    for p in points:  # refuse a bad point before any work starts
        point_scenario(data, p, source, profile)
    run_seed = base.seed if seed is None else seed
    seeds = rep_seeds(run_seed, reps)
    if out.exists() and not out.is_dir():
        raise ConfigError(out, ["--out names a file; a sweep folder is expected"])
    out.mkdir(parents=True, exist_ok=True)
    keys = list(points[0])
    header = ["point", *keys, "rep", "seed", *METRICS, "incidents", "events", "wall_s",
              *(f"missed_{c}" for c in CAUSES)]
    tasks = [(i, r) for i in range(len(points)) for r in range(reps)]
    rows: list[dict[str, Any]] = []
    partial = out / "sweep.csv.partial"
    with partial.open("w", newline="", encoding="utf-8") as fh, executor(workers, scheduler) as ex:
        w = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        w.writeheader()
        futs = {ex.submit(run_task, data, points[i], seeds[r], source, profile): (i, r) for i, r in tasks}
        for n, fut in enumerate(cf.as_completed(futs), 1):
            i, r = futs[fut]
            row = {"point": i, **points[i], "rep": r, "seed": seeds[r], **fut.result()}
            rows.append(row)
            w.writerow(row)  # each replication is on disk as soon as it is done
            fh.flush()
            os.fsync(fh.fileno())
            if progress:
                progress(n, len(tasks))
    rows.sort(key=lambda x: (x["point"], x["rep"]))
    write_csv(out / "sweep.csv", header, [{k: x[k] for k in header} for x in rows])
    partial.unlink()
    summary = summarize_points(rows, points, keys)
    write_csv(out / "sweep_summary.csv", summary_header(keys), [flat(e, keys) for e in summary])
    write_json(out / "sweep.json", {"scenario": base.name, "variant": base.variant, "seed": run_seed, "reps": reps,
                                    "device": device, "keys": keys, "points": summary})
    from bwclab.sim.plots import sweep_plots

    sweep_plots([flat(e, keys) for e in summary], [k for k, vals in parsed if len(vals) > 1], out)
    return summary


STATS = ("mean", "ci_low", "ci_high")


def summary_header(keys: list[str]) -> list[str]:
    """sweep_summary.csv: each figure's mean and CI, then each headline's paired difference from point 0."""
    return (["point", *keys, "reps"] + [f"{m}_{s}" for m in METRICS for s in STATS]
            + [f"{m}_diff_{s}" for m in HEADLINE for s in STATS])


def flat(entry: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """A point of `summarize_points` as a sweep_summary.csv row."""
    row: dict[str, Any] = {"point": entry["point"], **{k: entry[k] for k in keys}, "reps": entry["reps"]}
    for m in METRICS:
        row.update({f"{m}_{s}": entry["figures"][m][s] for s in STATS})
    for m in HEADLINE:
        row.update({f"{m}_diff_{s}": entry["difference"][m][s] for s in STATS})
    return row


def summarize_points(rows: list[dict[str, Any]], points: list[dict[str, str]], keys: list[str]) -> list[dict[str, Any]]:
    """Each point's figures (mean and 95% CI over its replications) and, for each headline figure, its paired
    difference from the first point (this point minus point 0, replication by replication: common random
    numbers), with its 95% CI; the first point's difference is 0 by construction."""
    by_point = [sorted((r for r in rows if r["point"] == i), key=lambda r: r["rep"]) for i in range(len(points))]
    out = []
    for i, p in enumerate(points):
        mine = by_point[i]
        out.append({"point": i, **{k: p[k] for k in keys}, "reps": len(mine),
                    "figures": {m: mean_ci([r[m] for r in mine], *figure_range(m)) for m in METRICS},
                    "difference": {m: paired(by_point[0], mine, m) for m in HEADLINE}})
    return out
