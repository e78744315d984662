"""Night-to-night drift detection, on simulated nights drawn from the emulator's own camera model (bwclab/camera/ble.py
discovery and processing; the radio's log-distance path loss with a per-broadcast normal fade), not the
full bench: the false-alarm rate over clean nights and the power for latency shifts of 25, 50 and 100 ms
and r95 shifts of 2 and 4 ft, with and without the nightly spec's `drift.max_change`.

A night is one camera on the nightly spec: 20 latency trials, 60 coverage broadcasts placed where an
adaptive design puts them (five about r50 first, then P = 0.97, 0.95, 0.87, 0.3 in turn, every 4th
at 30 ft, each aimed with an 8% error). The baseline is last:5, five clean nights pooled.
`python -m benchmarks.drift_power [NIGHTS]` prints a Markdown table.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import scipy.stats as sps

from bwclab.camera.ble import DiscoveryModel
from bwclab.history.drift import compare
from bwclab.history.record import CameraRecord, ResultRecord, RunRecord
from bwclab.rig.certificate import Observations

BLE = DiscoveryModel(adv_interval_s=0.1, scan_window_s=0.1, scan_interval_s=0.1, processing_s=0.2,
                     processing_jitter_s=0.05)
TX_DBM, SENS_DBM, FADE_DB, LOSS_1M, EXPONENT = 0.0, -66.0, 2.0, 40.2, 2.0  # fixtures/nightly/bench.yaml
FT_PER_M = 3.28084
TARGETS = (0.97, 0.95, 0.87, 0.3)
BROADCASTS = 60  # fixtures/nightly/spec.yaml
FLAGS = ("regressed", "better")  # "no baseline" (a curve that could not be fitted) is not a flag


def p_detect(d_ft: np.ndarray, offset_db: float) -> np.ndarray:
    pl = LOSS_1M + 10 * EXPONENT * np.log10(d_ft / FT_PER_M)
    return np.asarray(sps.norm.cdf((TX_DBM - pl - (SENS_DBM + offset_db)) / FADE_DB))


def distance_at(p: float, offset_db: float) -> float:
    margin = TX_DBM - (SENS_DBM + offset_db) - FADE_DB * float(sps.norm.ppf(p))
    return FT_PER_M * 10 ** ((margin - LOSS_1M) / (10 * EXPONENT))


def offset_for_r95_shift(shift_ft: float) -> float:
    r95 = distance_at(0.95, 0.0)
    return -10 * EXPONENT * math.log10((r95 + shift_ft) / r95)


def night(rng: np.random.Generator, run_id: str, lat_shift_s: float, offset_db: float,
          max_change: tuple[float, float]) -> RunRecord:
    lat = np.array([BLE.sample_discovery(rng) + BLE.sample_processing(rng) for _ in range(20)]) + lat_shift_s
    lat += rng.normal(0, 0.0002, len(lat))  # the GPIO path's own spread
    r50 = distance_at(0.5, offset_db)
    bracket = [r50 * math.exp(x) for x in (-0.3, 0.15, -0.15, 0.3, 0.0)]  # before a fit exists: about the edge
    edge = np.array(bracket + [distance_at(TARGETS[k % 4], offset_db) for k in range(BROADCASTS - 5)])
    aim = np.exp(rng.normal(0, 0.08, BROADCASTS))  # the fit's aim wanders
    d = np.where(np.arange(BROADCASTS) % 4 == 3, 30.0, edge * aim)
    y = rng.uniform(size=len(d)) < p_detect(d, offset_db)
    results = [
        ResultRecord("LAT", "CAM", "pass", "p95", "s", "estimate", None, 1.0, float(np.percentile(lat, 95)), None, None,
                     20, max_change[0], Observations(samples=[float(x) for x in lat])),
        ResultRecord("COV", "CAM", "pass", "r95", "ft", "estimate", 30.0, None, 0.0, None, None, BROADCASTS,
                     max_change[1], Observations(distance_ft=[float(x) for x in d], activated=[bool(v) for v in y]))]
    return RunRecord(run_id=run_id, started=run_id, ended=run_id, bench="sim", bench_sha256="", spec="nightly",
                     spec_sha256="", verdict="pass", operator="", host="", bwclab_version="", git_commit="", folder="",
                     trials=60, errored_attempts=0, retried_steps=0, lost="", errors_by_device={},
                     cameras=[CameraRecord("CAM", "M", "1", "console")], results=results)


def rates(nights: int, lat_shift_s: float, r95_shift_ft: float, max_change: tuple[float, float],
          seed: int) -> tuple[float, float, float]:
    """(any flag in the night, LAT flagged, COV flagged) over `nights` nights."""
    rng = np.random.default_rng(seed)
    offset = offset_for_r95_shift(r95_shift_ft) if r95_shift_ft else 0.0
    anyf = latf = covf = 0
    for k in range(nights):
        base = [night(rng, f"b{i}", 0.0, 0.0, max_change) for i in range(5)]
        got = {d.requirement: d.verdict for d in compare(night(rng, "n", lat_shift_s, offset, max_change), base, k)}
        anyf += any(v in FLAGS for v in got.values())
        latf += got["LAT"] in FLAGS
        covf += got["COV"] in FLAGS
    return anyf / nights, latf / nights, covf / nights


def table(nights: int = 300) -> str:
    rows = ["| night | max_change | any flag | LAT flagged | COV flagged |", "|---|---|---|---|---|"]
    cases = [("clean", 0.0, 0.0), ("latency +25 ms", 0.025, 0.0), ("latency +50 ms", 0.05, 0.0),
             ("latency +100 ms", 0.1, 0.0), ("r95 +2 ft", 0.0, 2.0), ("r95 +4 ft", 0.0, 4.0),
             ("r95 +10 ft", 0.0, 10.0), ("r95 +20 ft", 0.0, 20.0)]
    for mc_name, mc in (("0", (0.0, 0.0)), ("spec (0.05 s, 2 ft)", (0.05, 2.0))):
        for i, (name, lat, cov) in enumerate(cases):
            a, b, c = rates(nights, lat, cov, mc, seed=1000 * i + 7)
            rows.append(f"| {name} | {mc_name} | {a:.3f} | {b:.3f} | {c:.3f} |")
    r95 = distance_at(0.95, 0.0)
    return (f"{nights} nights a row; true r95 {r95:.1f} ft; r95 +2 ft = {offset_for_r95_shift(2):+.2f} dB, "
            f"+4 ft = {offset_for_r95_shift(4):+.2f} dB of sensitivity\n\n" + "\n".join(rows))


if __name__ == "__main__":
    print(table(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
