"""A department's options (`bwclab sim compare --options OPTIONS.yaml`): one scenario, the same replications
(common random numbers) under each option, and each option's paired difference from the first.

An option is a name and any of a variant of the scenario, a certified device profile and dotted overrides (as
`--set` takes them), with optional costs. Paths in the file (the scenario, a profile) are read relative to the
file's folder; a bare name is a built-in one. Every problem is reported naming the options file and the field.

Incidents a year scale one shift's figures by the shifts in a year (8,760 hours over the scenario's shift
length), as the storage figures do: the shift stands for every shift of the year."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from bwclab.core.builtin import Kind, resolve
from bwclab.core.config import ConfigError, load, read_yaml, set_dotted, validate
from bwclab.core.profile import DeviceProfile, load_profile
from bwclab.core.strict import Line, Strict
from bwclab.sim.compare import drawn
from bwclab.sim.replicate import HEADLINE, aggregate, mean_ci, one, paired, rep_seeds
from bwclab.sim.runfolder import device_name, device_record
from bwclab.sim.scenario import Scenario, with_variant

HOURS_A_YEAR = 8760.0
Money = Annotated[float, Field(ge=0.0)]


class Costs(Strict):
    """What an option costs a year, each figure optional (an assumption unless the department has a quote)."""

    per_camera_per_year: Money | None = Field(default=None, description="each body camera, a year")
    storage_per_tb_per_year: Money | None = Field(default=None, description="each TB held, a year")
    per_trigger_unit: Money | None = Field(default=None, description="each cruiser's trigger unit, a year")

    def over(self, shared: Costs | None) -> Costs:
        """These costs, each one not given taken from `shared`."""
        if shared is None:
            return self
        return Costs(**{k: v if v is not None else getattr(shared, k) for k, v in self.model_dump().items()})


class Option(Strict):
    name: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[^\x00-\x1f\x7f]*$")]
    variant: Line | None = None
    profile: Line | None = None
    set: dict[str, Any] = Field(default_factory=dict, description="dotted.key: value, as --set takes them")
    costs: Costs | None = None


class OptionsFile(Strict):
    scenario: Line
    reps: int = Field(default=20, ge=2, le=10_000)
    seed: int | None = Field(default=None, ge=0)
    costs: Costs | None = None
    options: list[Option] = Field(min_length=2, max_length=12)


def _unique_names(spec: OptionsFile, path: Path) -> None:
    seen: dict[str, int] = {}
    for i, opt in enumerate(spec.options):
        if opt.name in seen:
            raise ConfigError(path, [f"options.{i}.name: {opt.name!r} names options {seen[opt.name]} and {i}; expected "
                                     "each option's name once"])
        seen[opt.name] = i


@dataclass(frozen=True)
class Prepared:
    """One option ready to run: its scenario (variant and overrides applied) and its device profile, if any."""

    name: str
    scenario: Scenario
    profile: DeviceProfile | None
    profile_path: str | None
    changes: dict[str, Any]
    costs: Costs


def _path(text: str, kind: Kind, base: Path) -> Path:
    """A file named in the options file (relative to its folder), a `sim calibrate` folder, or a built-in."""
    near = base / text
    if near.exists():
        text = str(near)
    path = resolve(kind, text)
    if kind == "scenario" and path.is_dir() and (path / "calibrated.yaml").is_file():
        return path / "calibrated.yaml"
    return path


def _refused(path: Path, field: str, err: ConfigError) -> ConfigError:
    return ConfigError(path, [f"{field}: {err.path}: {p}" for p in err.problems])


def prepare(path: Path) -> tuple[OptionsFile, Path, list[Prepared]]:
    """The options file read and every option's scenario and profile loaded: a ConfigError naming the options
    file and the field on the first problem, before any replication runs."""
    spec = load(OptionsFile, path)
    _unique_names(spec, path)
    try:
        sc_path = _path(spec.scenario, "scenario", path.parent)
        data = read_yaml(sc_path)
    except ConfigError as err:
        raise _refused(path, "scenario", err) from None
    if not isinstance(data, dict):
        raise ConfigError(path, [f"scenario: {sc_path} is not a scenario (expected a mapping of fields)"])
    variants = data.get("variants") or {}
    if not isinstance(variants, dict):
        variants = {}
    out = []
    for i, opt in enumerate(spec.options):
        where = f"options.{i}"
        if opt.variant is not None and opt.variant not in variants:
            raise ConfigError(path, [f"{where}.variant: {opt.variant!r} is not a variant of {sc_path} (expected "
                                     f"one of: {', '.join(variants) or 'none'})"])
        chosen = variants.get(opt.variant) if opt.variant else None
        changes = {**(dict(chosen) if isinstance(chosen, dict) else {}), **opt.set}
        try:
            option_data = with_variant(data, sc_path, opt.variant)
            for key, value in opt.set.items():
                set_dotted(option_data, str(key), copy.deepcopy(value), path)
            sc = validate(Scenario, option_data, sc_path)
        except ConfigError as err:
            raise _refused(path, f"{where} ({opt.name})", err) from None
        prof, prof_path = None, None
        if opt.profile is not None:
            try:
                found = _path(opt.profile, "profile", path.parent)
                prof, prof_path = load_profile(found), str(found)
            except ConfigError as err:
                raise _refused(path, f"{where}.profile", err) from None
        costs = (opt.costs or Costs()).over(spec.costs)
        out.append(Prepared(name=opt.name, scenario=sc, profile=prof, profile_path=prof_path, changes=changes,
                            costs=costs))
    return spec, sc_path, out


def _counts(s: dict[str, Any]) -> dict[str, Any]:
    """A replication's captured incidents (and uses of force), from its rates and counts."""
    inc, force = s.get("incidents"), s.get("by_severity", {}).get("use_of_force", {}).get("incidents")
    rate, force_rate = s.get("capture_rate"), s.get("use_of_force_capture_rate")
    return {"captured_incidents": _captured(rate, inc), "captured_uses_of_force": _captured(force_rate, force)}


def _captured(rate: float | None, incidents: int | None) -> float | None:
    """How many incidents were captured: none of none (a shift without one counts, as 0), unknown if unmeasured."""
    if incidents == 0:
        return 0.0
    return None if rate is None or incidents is None else rate * incidents


def run_options(prepared: list[Prepared], seed: int, reps: int,
                progress: Callable[[float], None] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every option's replications, replication r of each with the same seed (and the same profile draw)."""
    seeds = rep_seeds(seed, reps)
    runs: dict[str, list[dict[str, Any]]] = {}
    total, done = len(prepared) * reps, 0
    for p in prepared:
        runs[p.name] = []
        for r, s in enumerate(seeds):
            sc = drawn(p.scenario, p.profile, seed, r) if p.profile is not None else p.scenario
            got = one(sc, s)
            runs[p.name].append({**got, **_counts(got)})
            done += 1
            if progress:
                progress(done / total)
    return runs


def _spread(summaries: list[dict[str, Any]], agg: dict[str, Any]) -> dict[str, Any] | None:
    if "officer_spread" in agg:
        return dict(agg["officer_spread"])
    if not all("officer_spread" in s for s in summaries):
        return None
    keys = [k for k in summaries[0]["officer_spread"] if k != "officers"]
    return {k: mean_ci([s["officer_spread"][k] for s in summaries], 0.0, 1.0) for k in keys}


def _option_costs(p: Prepared, storage_tb_held: float | None) -> dict[str, Any]:
    sc, c = p.scenario, p.costs
    cameras = sc.fleet.officers
    cruisers = sum(not sc.fleet.foot(o) for o in range(cameras)) if sc.signal.triggers else 0
    parts: dict[str, float | None] = {
        "cameras": None if c.per_camera_per_year is None else c.per_camera_per_year * cameras,
        "storage": None if c.storage_per_tb_per_year is None or storage_tb_held is None
        else c.storage_per_tb_per_year * storage_tb_held,
        # no trigger unit costs nothing, whatever a unit's price
        "trigger_units": 0.0 if cruisers == 0
        else None if c.per_trigger_unit is None else c.per_trigger_unit * cruisers,
    }
    given = [v for v in parts.values() if v is not None]
    return {"cameras": cameras, "trigger_units": cruisers, "rates": c.model_dump(), "per_year": parts,
            "total_per_year": sum(given) if given else None,
            "complete": all(v is not None for v in parts.values())}


def results(spec: OptionsFile, sc_path: Path, prepared: list[Prepared], runs: dict[str, list[dict[str, Any]]],
            seed: int) -> dict[str, Any]:
    """compare.json: every option's figures with 95% CIs, and each one's paired difference from the first."""
    base = prepared[0]
    sc = base.scenario
    shifts = HOURS_A_YEAR / sc.shift.duration_h
    out: dict[str, Any] = {
        "scenario": sc.name, "scenario_file": str(sc_path), "seed": seed, "reps": spec.reps,
        "scaling": {"shift_h": sc.shift.duration_h, "shifts_a_year": round(shifts, 3),
                    "assumption": f"one year is {HOURS_A_YEAR:,.0f} hours over the scenario's {sc.shift.duration_h:g} "
                                  f"h shift = {shifts:,.1f} shifts, each like the one simulated (a shift busier "
                                  "than the day's average, as an evening shift is, overstates the year)"},
        "options": {}, "differences": {}}
    for p in prepared:
        got = runs[p.name]
        agg = aggregate(got)
        tb_held = agg["figures"]["storage_tb_held"]["mean"]
        out["options"][p.name] = {
            "variant": p.scenario.variant, "changes": p.changes, "triggers": list(p.scenario.signal.triggers),
            "buffer_s": p.scenario.camera.buffer_s,
            "device": device_record(p.profile, Path(p.profile_path) if p.profile_path else None) if p.profile
            else None,
            "incidents_per_shift": mean_ci([s.get("incidents") for s in got], 0.0),
            **agg, "officer_spread": _spread(got, agg), "costs": _option_costs(p, tb_held)}
        if p.profile is not None:
            out["options"][p.name]["device"]["name"] = device_name(out["options"][p.name]["device"])
    for p in prepared[1:]:
        a, b = runs[base.name], runs[p.name]
        per_year = {k: _scaled(a, b, k, shifts) for k in ("captured_incidents", "captured_uses_of_force")}
        out["differences"][p.name] = {"from": base.name, **{k: paired(a, b, k) for k in HEADLINE},
                                      "per_year": per_year}
    return out


def _scaled(a: list[dict[str, Any]], b: list[dict[str, Any]], key: str, factor: float) -> dict[str, Any]:
    diffs = [None if x[key] is None or y[key] is None else (y[key] - x[key]) * factor
             for x, y in zip(a, b, strict=True)]
    return mean_ci(diffs)
