"""1. Activation latency for one trigger type at a near distance, every camera at once.

Each trial fires the trigger and times each camera's indicator edge: through the scope when it
watches both lines (its own delay measurement), and always through the GPIO adapter's host
timestamps, corrected by the loopback wire's median lag (the GPIO path's out-and-back delay).
The scope's window (`scope_window_s`, default 1.5 s: half again the default limit) bounds what it can
see; a slower activation has no scope reading and the trial set falls back to the GPIO path.
A camera that does not activate counts as infinitely late.
"""

from __future__ import annotations

import math
import time

from pydantic import Field

from bwclab.core.profile import LatencySamples
from bwclab.core.strict import Feet
from bwclab.core.triggers import TriggerKind
from bwclab.rig import plots
from bwclab.rig.certificate import Observations
from bwclab.rig.interfaces import CameraError, InstrumentError
from bwclab.rig.measurements import SECONDS, Measurement, bound_text
from bwclab.rig.procedures.base import Context, Plan, run_steps
from bwclab.rig.procedures.declare import Options, Procedure, ProfilePart, Quantity, TriggerParams
from bwclab.rig.stats import quantile_ci
from bwclab.rig.trials import Row, StepResult

QUANTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}


class LatencyParams(TriggerParams):
    distance_ft: Feet | None = Field(default=None, gt=0, description="default: the bench's rig.near_ft")
    scope_window_s: float = Field(default=1.5, gt=0, le=60)


class LatencyRow(Row):
    gpio_s: float | None
    gpio_u_s: float
    scope_s: float | None = None
    scope_u_s: float | None = None

    @property
    def best_s(self) -> float:
        """The scope's reading where there is one, else the GPIO path's; inf when it did not activate."""
        if self.scope_s is not None:
            return self.scope_s
        return math.inf if self.gpio_s is None else self.gpio_s


def run(ctx: Context, plan: Plan, p: LatencyParams) -> None:
    emitter = ctx.emitter_for(p.trigger)
    window = ctx.window_s(emitter)
    st = ctx.station

    def step(seq: int, cams: list[str]) -> StepResult:
        cams = ctx.ensure_idle(cams)
        for s in cams:
            st.set_distance(s, p.distance_ft or ctx.near_ft)
        scoped = {s: st.scope_channels(emitter, s) for s in cams}
        armed = next(((s, chans) for s, chans in scoped.items() if chans is not None), None)
        if armed is not None and st.scope is not None:
            st.scope.arm(armed[1][0], rising=True, window_s=p.scope_window_s)
        t0 = st.fire(emitter)
        deadline = time.monotonic() + window
        gpio: dict[str, float | None] = {}
        for s in cams:
            edge = st.wait_indicator(s, t0, max(deadline - time.monotonic(), 0.0))
            gpio[s] = None if edge is None else (edge - t0 - ctx.gpio.lag_median_ns) / 1e9
        scope: dict[str, float | None] = {}
        if armed is not None and st.scope is not None and gpio[armed[0]] is not None:
            src, dst = armed[1]
            scope[armed[0]] = st.scope.delay(src, dst, timeout_s=p.scope_window_s + 2.0)

        def reading(s: str) -> LatencyRow:
            ref = st.indicator(s)
            return timed(s, st.edges.by_line.get(ref, []) if ref else [], t0, gpio[s], ctx.gpio.lag_spread_ns / 1e9,
                         scope.get(s), st.scope.resolution_s if st.scope is not None else None, p.scope_window_s)

        rows = ctx.each(cams, reading)
        ctx.finish_step(emitter, {s: gpio[s] is not None for s in cams})
        return StepResult.of(rows, fired_ns=t0, emitter=emitter)

    ctx.all_near(ctx.cameras)
    run_steps(ctx, plan, list(ctx.cameras), step)


def timed(serial: str, edges: list[tuple[int, bool]], fired_ns: int, gpio_s: float | None, gpio_u_s: float,
          scope_s: float | None, scope_u_s: float | None, scope_window_s: float) -> LatencyRow:
    """One camera's reading of one trial, or the reason it cannot time this trigger's activation.

    `edges` are the camera's indicator edges (host ns, level) as the GPIO adapter saw them. A camera already
    recording when the trigger fired cannot be timed (its own fault: it started on its own, or was not stopped). A
    scope delay at or below zero is an edge before the trigger, not this activation: the camera's fault when its
    indicator rose inside the scope's window before the trigger, else the scope's. A GPIO reading below zero by more
    than its uncertainty is the adapter's. Each is an error of this attempt (retried), never a sample."""
    before = [(t, level) for t, level in edges if t < fired_ns]
    if before and before[-1][1]:
        raise CameraError(f"{serial}: recording when the trigger fired (its indicator rose "
                          f"{(fired_ns - before[-1][0]) / 1e6:.0f} ms before): this trial cannot time its activation")
    if scope_s is not None and scope_s <= 0:
        rose = [t for t, level in before if level and t >= fired_ns - scope_window_s * 1e9]
        if rose:
            raise CameraError(f"{serial}: its indicator rose {(fired_ns - rose[-1]) / 1e6:.0f} ms before the trigger "
                              f"fired, and the scope timed that edge ({scope_s * 1e3:+.1f} ms)")
        raise InstrumentError(f"scope: a delay of {scope_s * 1e3:+.1f} ms from the trigger to {serial}'s indicator, "
                              "an edge before the trigger that the GPIO adapter did not see", device="scope")
    if gpio_s is not None and gpio_s < -gpio_u_s:
        raise InstrumentError(f"gpio: {serial}'s indicator rose {-gpio_s * 1e3:.1f} ms before the trigger once the "
                              f"loopback lag is taken off (+/-{gpio_u_s * 1e3:.1f} ms)", device="gpio")
    gpio = None if gpio_s is None else max(gpio_s, 0.0)  # within its uncertainty of zero: no faster than zero
    return LatencyRow(gpio_s=gpio, gpio_u_s=gpio_u_s, scope_s=scope_s, scope_u_s=None if scope_s is None else scope_u_s)


def measure(quantity: str, rows: list[LatencyRow], _o: Options) -> Measurement:
    if all(r.scope_s is not None for r in rows):
        samples = [float(r.scope_s) for r in rows if r.scope_s is not None]
        path = f"scope delay, resolution {max(float(r.scope_u_s or 0) for r in rows) * 1e6:.1f} us"
    else:
        samples = [math.inf if r.gpio_s is None else r.gpio_s for r in rows]
        path = f"GPIO host timestamps, loopback-corrected, +/-{max(r.gpio_u_s for r in rows) * 1e3:.2f} ms"
    misses = sum(math.isinf(x) for x in samples)
    note = f"{misses} of {len(samples)} trials did not activate" if misses else ""
    plot = {"samples_s": [x if math.isfinite(x) else None for x in samples]}
    n = len(samples)
    if quantity == "max":
        return Measurement(quantity, max(samples), "s", n, uncertainty=f"exact over {n} trials; {path}",
                           note=note, plot=plot, exact=True)
    p = QUANTILES[quantity]
    est, one = quantile_ci(samples, p), quantile_ci(samples, p, level=0.90)
    need = math.ceil(math.log(0.05) / math.log(p))  # the fewest trials whose maximum bounds the quantile at 95%
    short = "" if one.high is not None else f"; {n} trials cannot bound {quantity} from above at 95% (needs {need})"
    return Measurement(quantity, est.value, "s", n, est.low, est.high,
                       uncertainty=f"95% CI {bound_text(est.low, '.3f')}-{bound_text(est.high, '.3f')} s, "
                                   f"one-sided 95% upper bound {bound_text(one.high, '.3f')} s{short}; {path}",
                       note=note, plot=plot, lower95=one.low, upper95=one.high)


def samples(rows: list[LatencyRow]) -> tuple[list[float], int]:
    """The activation latencies of the trials that activated, and how many did not."""
    got = [r.best_s for r in rows]
    return [x for x in got if math.isfinite(x)], sum(not math.isfinite(x) for x in got)


def observe(rows: list[LatencyRow], _m: Measurement) -> Observations:
    """Every latency (s) and the misses: a comparison of nights tests the whole distribution."""
    got, misses = samples(rows)
    return Observations(samples=[round(x, 6) for x in got], misses=misses)


def profile(rows: list[LatencyRow], kind: TriggerKind) -> ProfilePart:
    got, misses = samples(rows)
    if not got:
        return ProfilePart()
    return ProfilePart(latency={kind: LatencySamples(samples_s=[round(x, 4) for x in sorted(got)], misses=misses)})


LATENCY = Procedure(
    name="latency", summary="activation latency from one trigger, cameras near", params=LatencyParams,
    options=Options, row=LatencyRow,
    quantities={q: Quantity(SECONDS, f"{q} of trigger-to-recording latency") for q in ("p50", "p95", "p99", "max")},
    needs=("indicator",), run=run, measure=measure, plot=plots.latency_cdf, observe=observe, profile=profile)
