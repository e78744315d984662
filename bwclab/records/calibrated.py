"""calibrated.yaml: the base scenario with every fitted field replaced, each marked with its source in a comment
("calibrated: CALLS.csv, N responses, dates"); what the scenario has no field for yet (presses en route on
routine responses, travel, recording reasons no trigger kind of its vocabulary) is written as comments and in
calibration.json."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from bwclab.core.config import parse_yaml, read_yaml
from bwclab.records.fit import lognormal_dist
from bwclab.records.yamltext import dump, safe_text
from bwclab.sim.scenario import Scenario, scenario_from_dict


def _ci(x: dict[str, Any], fmt: str = ".3f") -> str:
    if x.get("mean") is None:
        return "n/a"
    if x.get("ci_low") is None:
        return format(x["mean"], fmt)
    return f"{x['mean']:{fmt}} [{x['ci_low']:{fmt}}, {x['ci_high']:{fmt}}]"


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    node = data
    *parents, last = dotted.split(".")
    for p in parents:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[last] = value


class _Writer:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.comments: dict[str, str] = {}
        self.notes: dict[str, list[str]] = {}

    def put(self, dotted: str, value: Any, comment: str) -> None:
        _set(self.data, dotted, value)
        self.comments[dotted] = comment

    def note(self, dotted: str, *lines: str) -> None:
        self.notes.setdefault(dotted, []).extend(lines)

    def aside(self, dotted: str, figure: dict[str, Any], text: str) -> None:
        """A figure the scenario has no field for yet, noted beside DOTTED, when the records gave one."""
        if figure.get("mean") is not None:
            self.note(dotted, text)

    def lognormal(self, dotted: str, fitted: dict[str, Any], comment: str) -> None:
        """A fitted lognormal as the scenario writes one ({dist: lognormal, mean, cv}), when there was one."""
        dist = lognormal_dist(fitted)
        if dist is not None:
            self.put(dotted, dist, comment)


def _source(cal: dict[str, Any]) -> tuple[str, str]:
    rec = cal["records"]
    period = rec["period"]
    dates = f"{period['first_call'][:10]} to {period['last_call'][:10]}"
    return Path(rec["cad"]).name, dates


def _calls(w: _Writer, cal: dict[str, Any]) -> None:
    cad, dates = _source(cal)
    rec = cal["records"]
    cph = cal["calls_per_hour"]
    w.put("calls.per_hour", [round(h["mean"] or 0.0, 4) for h in cph["by_hour"]],
          f"calibrated: {cad}, {rec['calls']:,} calls ({rec['responses']:,} responses), {dates}; "
          f"{_ci(cph, '.2f')} an hour overall")
    w.put("calls.officer_initiated_per_hour", 0.0, f"calibrated: {cad}: every call of the export is counted above, "
          "officer-initiated ones included")
    for name, t in cal["call_types"].items():
        base = f"call_types.{name}"
        n = t["share"]["n"]
        k = round((t["share"]["mean"] or 0.0) * n)
        w.put(f"{base}.share", round(t["share"]["mean"] or 0.0, 4),
              f"calibrated: {cad}, {k:,} of {n:,} calls, {dates}; 95% CI {_ci(t['share'])}")
        if k == 0:
            continue
        depts = t["department_types"]
        if depts and depts != [name]:
            w.note(base, f"{name}: the department's " + ", ".join(safe_text(d) for d in depts[:12])
                   + (f" and {len(depts) - 12} more" if len(depts) > 12 else ""))
        units = t["units"]
        if units.get("distribution"):
            w.put(f"{base}.units", units["distribution"],
                  f"calibrated: {cad}, {units['n']:,} calls; mean {_ci(units, '.2f')}")
        em = t["emergency"]
        if em.get("mean") is not None:
            w.put(f"{base}.priority", round(em["mean"], 4),
                  f"calibrated: {cad}, emergency priorities, {em['n']:,} calls; {_ci(em)}")
        tos = t["time_on_scene_min"]
        w.lognormal(f"{base}.time_on_scene_min", tos, f"calibrated: {cad}, {tos['n']:,} calls, first arrival to "
                    f"last clearing; mean {_ci(tos, '.1f')} min")


def _dispatch(w: _Writer, cal: dict[str, Any]) -> None:
    cad, dates = _source(cal)
    d = cal["dispatch_delay_s"]
    w.lognormal("dispatch.processing_s", d, f"calibrated: {cad}, {d['n']:,} calls, {dates}; received to first "
                f"dispatch, mean {_ci(d, '.0f')} s (queueing included: the model adds its own wait for a free unit)")
    t = cal["travel_s"]
    w.aside("dispatch", t, f"travel, dispatch to arrival (calibrated: {cad}, {t['n']:,} responses): mean "
            f"{_ci(t, '.0f')} s, cv {t.get('cv') or 0:.2f}; the model's travel comes from distance and speed")


def _camera(w: _Writer, cal: dict[str, Any]) -> None:
    if "compliance" not in cal:
        w.note("camera", "manual compliance and triggers: not calibrated (no audit export given)")
        return
    audit = Path(cal["records"]["audit"]).name
    _, dates = _source(cal)
    overall = cal["compliance_all_types"]
    if overall.get("mean") is not None:
        w.put("camera.manual.compliance", round(overall["mean"], 4),
              f"calibrated: {audit}, {overall['n']:,} responses no trigger had started, {dates}; {_ci(overall)}")
    _by_call_type(w, cal, audit, dates)
    press = cal["press_delay_s"]
    after = press["after_arrival"]
    w.lognormal("camera.manual.delay_s", after, f"calibrated: {audit}, {after['n']:,} presses after arrival; mean "
                f"{_ci(after, '.0f')} s")
    _en_route(w, press, audit)
    _spread(w, cal, audit)
    trig = cal["triggers"]
    counts = ", ".join(f"{k} {v:,}" for k, v in trig["recordings_by_reason"].items() if v)
    w.put("signal.triggers", trig["fielded"], f"calibrated: {audit}, recording reasons: {counts}"
          + ("; no triggered recording: manual-only" if trig["manual_only"] else ""))
    if trig["not_in_scenario"]:
        w.note("signal.triggers", "triggers in the records that the scenario cannot field yet: "
               + ", ".join(trig["not_in_scenario"]))


def _by_call_type(w: _Writer, cal: dict[str, Any], audit: str, dates: str) -> None:
    """Each type's share of its responses started by hand, as the officers' average the scenario takes; a type
    with no response to judge takes `compliance`."""
    fitted = {t: c for t, c in cal["compliance"].items() if c.get("mean") is not None}
    if not fitted:
        return
    w.put("camera.manual.by_call_type", {t: round(c["mean"], 4) for t, c in fitted.items()},
          "calibrated: per call type, the share of responses no trigger had started that were started by hand")
    for t, c in fitted.items():
        w.comments[f"camera.manual.by_call_type.{t}"] = (f"calibrated: {audit}, {c['n']:,} responses, {dates}; "
                                                         f"{_ci(c)}")
    missing = [t for t in cal["compliance"] if t not in fitted]
    if missing:
        w.note("camera.manual.by_call_type", "no response to judge, so compliance applies: " + ", ".join(missing))


def _en_route(w: _Writer, press: dict[str, Any], audit: str) -> None:
    """`when: en_route` with its share where presses on priority responses came before arrival, else `arrival`;
    nothing when no press on a priority response was seen."""
    en_route = press["en_route"]
    if en_route.get("mean") is None:
        w.note("camera.manual.delay_s", "manual.when: not calibrated (no press on a priority response to judge)")
    elif en_route["mean"] > 0:
        w.put("camera.manual.when", "en_route", f"calibrated: {audit}, presses before arrival on priority "
              f"responses")
        w.put("camera.manual.en_route_share", round(en_route["mean"], 4), f"calibrated: {audit}, "
              f"{round(en_route['mean'] * en_route['n']):,} of {en_route['n']:,} presses on priority responses "
              f"before arrival; {_ci(en_route)}")
    else:
        w.put("camera.manual.when", "arrival", f"calibrated: {audit}, none of {en_route['n']:,} presses on priority "
              f"responses before arrival; {_ci(en_route)}")
    routine = press.get("en_route_routine", {})
    if routine.get("mean"):
        w.note("camera.manual.delay_s", f"presses en route on routine responses: {_ci(routine)} of "
               f"{routine['n']:,} (the scenario presses en route on priority responses only)")


def _spread(w: _Writer, cal: dict[str, Any], audit: str) -> None:
    spread = cal.get("officer_spread_logit", {})
    if spread.get("mean") is None:
        why = ("the CAD export names no unit" if spread.get("not_exported") == "unit"
               else "too few officers to tell them apart")
        w.note("camera.manual.compliance", f"officer_spread_logit: not calibrated ({why}); the scenario's own "
               "is kept")
        return
    w.put("camera.manual.officer_spread_logit", round(spread["mean"], 3),
          f"calibrated: {audit}, {spread['n']:,} officers, {spread['responses']:,} responses; sd "
          f"{_ci(spread, '.2f')}, random-effects logistic, profile-likelihood CI")


def calibrated_scenario(base: Path, cal: dict[str, Any]) -> tuple[str, Scenario]:
    """The calibrated scenario's YAML text, and the scenario it validates to (what `sim shift` will run)."""
    raw = read_yaml(base)
    data: dict[str, Any] = copy.deepcopy(raw) if isinstance(raw, dict) else {}
    w = _Writer(data)
    cad, dates = _source(cal)
    data["name"] = f"{data.get('name', base.stem)} (calibrated)"
    data["description"] = (f"{base.name} with its calls, call types, dispatch and cameras calibrated from "
                           f"{cad}" + (f" and {Path(cal['records']['audit']).name}" if cal['records']['audit'] else "")
                           + f", {dates}.")
    _calls(w, cal)
    _dispatch(w, cal)
    _camera(w, cal)
    header = [f"# Calibrated by `bwclab sim calibrate` from {cad}, {dates}, on {base.name}.",
              "# Every fitted field says so in its comment; calibration.json has each figure with its 95% CI and n.",
              ""]
    text = "\n".join(header + dump(data, w.comments, w.notes)) + "\n"
    return text, scenario_from_dict(parse_yaml(text, "calibrated.yaml"), "calibrated.yaml")
