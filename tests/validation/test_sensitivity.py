"""What a department can buy or configure moves the prediction: on the Hartford shift, with common random
numbers, capture rises with the cameras' reach (r50 20 to 60 ft) and with the pre-event buffer (0 to 60 s),
and the paired difference between the ends of each range has a 95% CI above zero."""

from __future__ import annotations

import pytest

from bwclab.core.builtin import resolve
from bwclab.sim.replicate import aggregate, paired, run_reps
from bwclab.sim.scenario import load_scenario

REPS = 20


def capture(setting: str, values: tuple[float, ...]) -> list[list[dict[str, object]]]:
    path = resolve("scenario", "hartford-patrol-shift")
    out = []
    for v in values:
        sc = load_scenario(path, [f"{setting}={v}"])
        out.append(run_reps(sc, sc.seed, REPS)[1])
    return out


@pytest.mark.parametrize(("setting", "values"), [("signal.detection.r50_ft", (20, 40, 60)),
                                                 ("camera.buffer_s", (0, 30, 60))])
def test_capture_rises_across_the_range_and_the_ends_differ_beyond_the_noise(setting: str,
                                                                             values: tuple[float, ...]) -> None:
    runs = capture(setting, values)
    means = [aggregate(r)["figures"]["capture_rate"]["mean"] for r in runs]
    assert means == sorted(means) and means[0] < means[-1], means
    diff = paired(runs[0], runs[-1], "capture_rate")
    assert diff["ci_low"] is not None and diff["ci_low"] > 0, diff


def test_auto_activation_moves_capture_where_manual_only_cannot() -> None:
    path = resolve("scenario", "hartford-patrol-shift")
    got = {}
    for variant in ("manual-only", "light-bar"):
        sc = load_scenario(path, variant=variant)
        got[variant] = run_reps(sc, sc.seed, REPS)[1]
    diff = paired(got["manual-only"], got["light-bar"], "capture_rate")
    assert diff["ci_low"] is not None and diff["ci_low"] > 0, diff
