"""From a procedure's trials to the quantities requirements judge, each with its uncertainty.

Every figure says how many trials are behind it and how sure it is: quantiles carry their
order-statistic CI and the timing path's own uncertainty, probabilities a Clopper-Pearson or
fitted-curve CI, counts are exact over the trials run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rig.interfaces import NotApplicable
from rig.stats import clopper_pearson, fit_probit, quantile_ci
from rig.trials import Trial, camera_causes, camera_rows

QUANTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}


@dataclass
class Measurement:
    quantity: str
    value: float | None
    units: str
    n: int
    low: float | None = None
    high: float | None = None
    uncertainty: str = ""
    note: str = ""
    lower95: float | None = None  # one-sided 95% confidence bounds: what `judge: lower|upper` reads
    upper95: float | None = None
    plot: dict[str, Any] = field(default_factory=dict)


class NoData(Exception):
    """No successful trial for this camera: the cause is in the message."""


def _bound(x: float | None, spec: str) -> str:
    """A CI end, or "unbounded" where the data do not bound it."""
    return "unbounded" if x is None or not math.isfinite(x) else format(x, spec)


def _summary(causes: list[str]) -> str:
    distinct = sorted(set(causes))
    return "; ".join(distinct[:3]) + (f" (+{len(distinct) - 3} more)" if len(distinct) > 3 else "")


def measure(procedure: str, quantity: str, trials: list[Trial], camera: str, params: dict[str, Any]) -> Measurement:
    rows = camera_rows(trials, camera)
    causes = camera_causes(trials, camera)
    if not rows:
        raise NoData(f"no successful trial of {procedure} for {camera}" + (f": {_summary(causes)}" if causes else ""))
    m = _MEASURES[procedure](quantity, rows, params)
    if causes:
        m.note = (m.note + " " if m.note else "") + f"{len(causes)} errored attempt(s) recorded: {_summary(causes)}"
    return m


def _latency(quantity: str, rows: list[dict[str, Any]], params: dict[str, Any]) -> Measurement:
    scope = [r["scope_s"] for r in rows if r.get("scope_s") is not None]
    if len(scope) == len(rows):
        samples = [float(x) for x in scope]
        path = f"scope delay, resolution {max(float(r['scope_u_s']) for r in rows) * 1e6:.1f} us"
    else:
        samples = [math.inf if r["gpio_s"] is None else float(r["gpio_s"]) for r in rows]
        path_u = max(float(r.get("gpio_u_s", 0)) for r in rows)
        path = f"GPIO host timestamps, loopback-corrected, +/-{path_u * 1e3:.2f} ms"
    misses = sum(math.isinf(x) for x in samples)
    note = f"{misses} of {len(samples)} trials did not activate" if misses else ""
    plot = {"samples_s": [x if math.isfinite(x) else None for x in samples]}
    if quantity == "max":
        value = max(samples)
        return Measurement(quantity, value, "s", len(samples), uncertainty=f"exact over {len(samples)} trials; {path}",
                           note=note, plot=plot)
    est = quantile_ci(samples, QUANTILES[quantity])
    return Measurement(quantity, est.value, "s", len(samples), est.low, est.high,
                       uncertainty=f"95% CI {_bound(est.low, '.3f')}-{_bound(est.high, '.3f')} s; {path}",
                       note=note, plot=plot)


def _coverage(quantity: str, rows: list[dict[str, Any]], params: dict[str, Any]) -> Measurement:
    d = [float(r["distance_ft"]) for r in rows]
    y = [bool(r["activated"]) for r in rows]
    fit = fit_probit(d, y)
    plot: dict[str, Any] = {"distance_ft": d, "activated": y}
    if fit is None:
        raise NoData(f"the {len(d)} broadcasts do not determine a curve yet (all one outcome or separated)")
    plot.update(a=fit.a, b=fit.b, cov=fit.cov.tolist())
    if quantity == "p_at":
        at = float(params.get("at_ft", 30.0))
        est, one = fit.p_ci(at), fit.p_ci(at, level=0.90)
        plot["at_ft"] = at
        near = sum(abs(x - at) / at < 0.03 for x in d)
        return Measurement("p_at", est.value, "", len(d), est.low, est.high,
                           uncertainty=f"95% CI {_bound(est.low, '.4f')}-{_bound(est.high, '.4f')}, one-sided 95% "
                                       f"bounds {_bound(one.low, '.4f')} / {_bound(one.high, '.4f')} (probit fit, "
                                       f"delta method, {len(d)} broadcasts, "
                                       f"{near} at {at:g} ft)",
                           plot=plot, lower95=one.low, upper95=one.high)
    p = {"r50": 0.5, "r95": 0.95}[quantity]
    est, one = fit.radius(p), fit.radius(p, level=0.90)
    return Measurement(quantity, est.value, "ft", len(d), est.low, est.high,
                       uncertainty=f"95% CI {_bound(est.low, '.1f')}-{_bound(est.high, '.1f')} ft (probit fit, "
                                   f"profile likelihood, "
                                   f"{len(d)} broadcasts)", plot=plot, lower95=one.low, upper95=one.high)


def _fraction(quantity: str, ok: list[bool], what: str) -> Measurement:
    k, n = sum(ok), len(ok)
    est, one = clopper_pearson(k, n), clopper_pearson(k, n, level=0.90)
    return Measurement(quantity, est.value, "", n, est.low, est.high,
                       uncertainty=f"{k} of {n} {what}; 95% CI {est.low:.2f}-{est.high:.2f}",
                       lower95=one.low, upper95=one.high)


def _count(quantity: str, counts: list[int], what: str, note: str = "") -> Measurement:
    return Measurement(quantity, float(sum(counts)), "", len(counts),
                       uncertainty=f"exact count over {len(counts)} {what}", note=note)


def _window(quantity: str, rows: list[dict[str, Any]], params: dict[str, Any]) -> Measurement:
    return _fraction(quantity, [r["activated"] == r["expected"] for r in rows], "trials as expected")


def _group(quantity: str, rows: list[dict[str, Any]], params: dict[str, Any]) -> Measurement:
    return _fraction(quantity, [bool(r["activated"]) for r in rows], "group triggers started it")


def _buffer(quantity: str, rows: list[dict[str, Any]], params: dict[str, Any]) -> Measurement:
    clips = [r for r in rows if r.get("activated")]
    if not clips:
        raise NoData("the camera never activated, so no clip was recorded")
    plot = {"clips": [{k: r.get(k) for k in ("timeline_s", "counters", "audio_rms", "buffer_set_s", "fps")}
                      for r in clips if r.get("playable")]}
    unplayable = [r.get("error", "") for r in clips if not r.get("playable")]
    note = f"{len(unplayable)} clip(s) unplayable: {unplayable[0]}" if unplayable else ""
    if quantity == "buffer_error_frames":
        if unplayable:
            raise NoData(note)
        worst = max(float(r["buffer_error_frames"]) for r in clips)
        reach = ", ".join(f"{r['buffered_s']:.3f}" for r in clips)
        m = Measurement(quantity, worst, "frames", len(clips),
                        uncertainty=f"frame-exact; buffered {reach} s against {clips[0]['buffer_set_s']} s set",
                        plot=plot)
    elif quantity == "frame_errors":
        parts = [sum(int(r.get(k, 0)) for r in clips) for k in ("dropped", "duplicated", "timecode_jumps",
                                                                  "unreadable")]
        m = _count(quantity, [int(r.get("frame_errors", 0)) for r in clips] + [len(unplayable) * 1000], "clips",
                   "dropped {}, duplicated {}, timecode jumps {}, unreadable {}".format(*parts))
        m.plot = plot
    elif quantity == "audio_errors":
        m = _count(quantity, [int(r.get("audio_errors", 0)) for r in clips if r.get("playable")], "clips",
                   "audio in buffer configured {}; sound in pre-event frames {}, silent post-event frames {}".format(
                       "on" if clips[0].get("audio_in_buffer") else "off",
                       sum(int(r.get("audio_pre_sound_frames", 0)) for r in clips),
                       sum(int(r.get("audio_post_silent_frames", 0)) for r in clips)))
        m.plot = plot
    elif quantity == "hash_mismatches":
        m = _count(quantity, [0 if r.get("hash_ok") else 1 for r in clips], "clips")
    elif quantity == "metadata_error_s":
        errs = [abs(float(r[k])) for r in clips for k in ("meta_activation_error_s", "meta_buffer_start_excess_s")
                if r.get(k) is not None]
        if not errs:
            raise NotApplicable("no console to read the device clock")
        rtt = max(float(r.get("clock_rtt_s", 0)) for r in clips)
        m = Measurement(quantity, max(errs), "s", len(clips),
                        uncertainty=f"clock offset +/-{rtt / 2 * 1e3:.2f} ms (half the console round trip); "
                                    "buffer start "
                        "compared to the frame grid (beyond one frame)")
    else:
        raise KeyError(quantity)
    if note and not m.note:
        m.note = note
    return m


def _count_with_control(quantity: str, rows: list[dict[str, Any]], counted: str, control: str, what: str,
                        control_text: str) -> Measurement:
    """Activations that must not happen, with the control trigger that must start the camera noted."""
    deaf = sum(not r[control] for r in rows)
    note = f"control: {control_text} in {deaf} of {len(rows)} trials" if deaf else ""
    return _count(quantity, [int(r[counted]) for r in rows], what, note)


def _allowlist(quantity: str, rows: list[dict[str, Any]], params: dict[str, Any]) -> Measurement:
    return _count_with_control(quantity, rows, "foreign_activated", "allowed_activated", "foreign triggers",
                               "an allowed emitter failed to start it")


def _powercut(quantity: str, rows: list[dict[str, Any]], params: dict[str, Any]) -> Measurement:
    clips = [r for r in rows if r.get("activated")]
    if not clips:
        raise NoData("the camera never activated before the power cut")
    lost = ", ".join("unplayable" if r["lost_s"] is None else f"{r['lost_s']:.3f} s" for r in clips)
    bad = [r for r in clips if not r["intact"]]
    note = "; ".join(f"playable={r['playable']} hash_ok={r['hash_ok']} {r.get('error', '')}".strip() for r in bad)
    m = _count(quantity, [0 if r["intact"] else 1 for r in clips], "power cuts", note)
    m.uncertainty += f"; footage lost before the cut: {lost}"
    return m


def _sleep(quantity: str, rows: list[dict[str, Any]], params: dict[str, Any]) -> Measurement:
    return _count_with_control(quantity, rows, "asleep_activated", "awake_activated", "triggers while asleep",
                               "awake it failed to start")


def _console(quantity: str, rows: list[dict[str, Any]], params: dict[str, Any]) -> Measurement:
    last = rows[-1]
    m = _count(quantity, [int(last["failed"]) + int(last["noise_bytes"]) + int(last["retried"])], "runs",
               f"failed exchanges {last['failed']}, noise bytes {last['noise_bytes']}, retried commands "
               f"{last['retried']}, over the run and {last['queries']} extra queries")
    return m


def _clock(quantity: str, rows: list[dict[str, Any]], params: dict[str, Any]) -> Measurement:
    worst = max(rows, key=lambda r: abs(r["drift_ppm"]))
    return Measurement(quantity, abs(float(worst["drift_ppm"])), "ppm", len(rows),
                       float(abs(worst["drift_ppm"]) - worst["u_ppm"]), float(abs(worst["drift_ppm"]) + worst["u_ppm"]),
                       uncertainty=f"+/-{worst['u_ppm']:.1f} ppm over {worst['span_s']:.1f} s")


_MEASURES = {"latency": _latency, "coverage": _coverage, "window": _window, "buffer": _buffer, "group": _group,
             "allowlist": _allowlist, "powercut": _powercut, "sleep": _sleep, "console": _console, "clock": _clock}

QUANTITIES: dict[str, tuple[str, ...]] = {
    "latency": ("p50", "p95", "p99", "max"),
    "coverage": ("p_at", "r50", "r95"),
    "window": ("fraction_as_expected",),
    "buffer": ("buffer_error_frames", "frame_errors", "audio_errors", "hash_mismatches", "metadata_error_s"),
    "group": ("fraction_activated",),
    "allowlist": ("foreign_activations",),
    "powercut": ("damaged_clips",),
    "sleep": ("activations_asleep",),
    "console": ("console_faults",),
    "clock": ("drift_ppm",),
}


def latency_samples(trials: list[Trial], camera: str) -> np.ndarray:
    rows = camera_rows(trials, camera)
    return np.array([r["scope_s"] if r.get("scope_s") is not None else r["gpio_s"] for r in rows
                     if r.get("gpio_s") is not None], dtype=float)
