"""Night-to-night drift detection on simulated nights: the false-alarm rate of clean nights against baselines
of 1, 3 and 5 nights, and the power for a 150-ms latency shift and a 3-dB loss of sensitivity, at the default
alpha (0.05, Holm over the night's tests) and the nightly spec's `drift.max_change` (0.05 s, 2 ft).

A night is drawn as the emulator draws it: one camera on the nightly bench and spec (fixtures/nightly/).
Latency: 20 trials, each a BLE discovery (bwclab/camera/ble.py, the bench's 100-ms advertising and continuous
scan) plus the camera's processing (200 +/- 50 ms), as bwclab/emulator/unit.py adds them. Coverage: 60
broadcasts, each with its own fade drawn once per broadcast and camera, N(0, 2 dB), as bwclab/emulator/radio.py
draws it, heard when the received power (0 dBm, log-distance loss, 40.2 dB at 1 m, exponent 2) plus the fade
clears the camera's -66 dBm and a discovery fits in the 0.3-s broadcast. Broadcasts are placed where the
adaptive design puts them (five about r50 first, then P = 0.97, 0.95, 0.87, 0.3 in turn, every 4th at
30 ft, each aimed with an 8% error).

Two benches:
- `emulator`: nights differ only by those draws, as the emulator's do (a fresh seed each night);
- `nights differ`: a bench whose every night also shifts the camera's sensitivity by N(0, 1 dB) and its
  latency by N(0, 10 ms), the kind of spread a real bench's radio and timing have from night to night
  (assumed figures: no lab publishes them).

`python -m benchmarks.drift_power [NIGHTS [BASELINES]]` (default 600 nights a cell, baselines 1,3,5) prints a
Markdown table: per bench, baseline size and night, the share of nights flagged (any flag for clean nights;
LAT regressed; COV regressed), with a 95% CI.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass

import numpy as np
import scipy.stats as sps

from bwclab.camera.ble import DiscoveryModel
from bwclab.history.drift import ALPHA, compare
from bwclab.history.record import CameraRecord, ResultRecord, RunRecord
from bwclab.rig.certificate import Observations

BLE = DiscoveryModel(adv_interval_s=0.1, scan_window_s=0.1, scan_interval_s=0.1, processing_s=0.2,
                     processing_jitter_s=0.05)
TX_DBM, SENS_DBM, FADE_DB, LOSS_1M, EXPONENT = 0.0, -66.0, 2.0, 40.2, 2.0  # fixtures/nightly/bench.yaml
BROADCAST_S = 0.3
FT_PER_M = 3.28084
TARGETS = (0.97, 0.95, 0.87, 0.3)
LAT_TRIALS, BROADCASTS = 20, 60  # fixtures/nightly/spec.yaml
MAX_CHANGE = (0.05, 2.0)  # fixtures/nightly/spec.yaml: latency s, r95 ft
FLAGS = ("regressed", "better")  # "no baseline" (a curve that could not be fitted) is not a flag


@dataclass(frozen=True)
class Bench:
    name: str
    sensitivity_sd_db: float  # a night's own shift of the camera's sensitivity
    latency_sd_s: float  # a night's own shift of its latency


BENCHES = (Bench("emulator", 0.0, 0.0), Bench("nights differ", 1.0, 0.010))


def distance_at(p: float, offset_db: float) -> float:
    """Where the camera hears a broadcast with probability p, its sensitivity `offset_db` worse."""
    margin = TX_DBM - (SENS_DBM + offset_db) - FADE_DB * float(sps.norm.ppf(p))
    return FT_PER_M * 10 ** ((margin - LOSS_1M) / (10 * EXPONENT))


def heard(rng: np.random.Generator, d_ft: np.ndarray, offset_db: float) -> np.ndarray:
    """radio.py: a fade per broadcast; in range while the faded power clears the threshold; heard when a
    discovery lands inside the broadcast."""
    loss = LOSS_1M + 10 * EXPONENT * np.log10(d_ft / FT_PER_M)
    fade = rng.normal(0.0, FADE_DB, len(d_ft))
    in_range = TX_DBM - loss + fade >= SENS_DBM + offset_db
    caught = np.array([math.isfinite(BLE.sample_discovery(rng, BROADCAST_S)) for _ in d_ft])
    return np.asarray(in_range & caught)


def night(rng: np.random.Generator, run_id: str, bench: Bench, lat_shift_s: float, offset_db: float) -> RunRecord:
    """One night of one camera: its own spread first (the bench's night), then its trials."""
    night_db = offset_db + rng.normal(0.0, bench.sensitivity_sd_db) if bench.sensitivity_sd_db else offset_db
    night_s = lat_shift_s + rng.normal(0.0, bench.latency_sd_s) if bench.latency_sd_s else lat_shift_s
    lat = np.array([BLE.sample_discovery(rng) + BLE.sample_processing(rng) for _ in range(LAT_TRIALS)]) + night_s
    lat += rng.normal(0, 0.0002, len(lat))  # the GPIO path's own spread
    r50 = distance_at(0.5, night_db)
    bracket = [r50 * math.exp(x) for x in (-0.3, 0.15, -0.15, 0.3, 0.0)]  # before a fit exists: about the edge
    targets = [distance_at(p, night_db) for p in TARGETS]
    edge = np.array(bracket + [targets[k % 4] for k in range(BROADCASTS - 5)])
    aim = np.exp(rng.normal(0, 0.08, BROADCASTS))  # the fit's aim wanders
    d = np.where(np.arange(BROADCASTS) % 4 == 3, 30.0, edge * aim)
    y = heard(rng, d, night_db)
    results = [
        ResultRecord("LAT", "CAM", "pass", "p95", "s", "estimate", None, 1.0, float(np.percentile(lat, 95)), None, None,
                     LAT_TRIALS, MAX_CHANGE[0], Observations(samples=[float(x) for x in lat])),
        ResultRecord("COV", "CAM", "pass", "r95", "ft", "estimate", 30.0, None, 0.0, None, None, BROADCASTS,
                     MAX_CHANGE[1], Observations(distance_ft=[float(x) for x in d], activated=[bool(v) for v in y]))]
    return RunRecord(run_id=run_id, started=run_id, ended=run_id, bench="sim", bench_sha256="", spec="nightly",
                     spec_sha256="", verdict="pass", operator="", host="", bwclab_version="", git_commit="", folder="",
                     trials=LAT_TRIALS + BROADCASTS, errored_attempts=0, retried_steps=0, lost="",
                     errors_by_device={}, cameras=[CameraRecord("CAM", "M", "1", "console")], results=results)


def rate(nights: int, bench: Bench, baseline_nights: int, lat_shift_s: float, offset_db: float, seed: int
         ) -> tuple[int, int, int]:
    """(nights with any flag, LAT regressed, COV regressed) over `nights` simulated nights."""
    rng = np.random.default_rng(seed)
    anyf = latf = covf = 0
    for k in range(nights):
        base = [night(rng, f"b{i}", bench, 0.0, 0.0) for i in range(baseline_nights)]
        got = {d.requirement: d.verdict for d in compare(night(rng, "n", bench, lat_shift_s, offset_db), base, k)}
        anyf += any(v in FLAGS for v in got.values())
        latf += got["LAT"] == "regressed"
        covf += got["COV"] == "regressed"
    return anyf, latf, covf


def share(k: int, n: int) -> str:
    ci = sps.binomtest(k, n).proportion_ci(0.95)
    return f"{k / n:.1%} [{ci.low:.1%}, {ci.high:.1%}]"


def table(nights: int = 600, baselines: tuple[int, ...] = (1, 3, 5)) -> str:
    rows = ["| bench | baseline | clean: any flag | +150 ms: LAT regressed | 3 dB less sensitive: COV regressed |",
            "|---|---|---|---|---|"]
    for b, bench in enumerate(BENCHES):
        for k in baselines:
            seed = 1000 * b + 10 * k
            clean = rate(nights, bench, k, 0.0, 0.0, seed)[0]
            lat = rate(nights, bench, k, 0.150, 0.0, seed + 1)[1]
            cov = rate(nights, bench, k, 0.0, 3.0, seed + 2)[2]
            rows.append(f"| {bench.name} | last:{k} | {share(clean, nights)} | {share(lat, nights)} | "
                        f"{share(cov, nights)} |")
    r95, r95_less = distance_at(0.95, 0.0), distance_at(0.95, 3.0)
    return (f"{nights} simulated nights a cell ({nights * 3 * len(baselines) * len(BENCHES)} judged in all), "
            f"alpha {ALPHA}, max_change "
            f"{MAX_CHANGE[0]} s and {MAX_CHANGE[1]} ft; r95 {r95:.1f} ft, {r95_less:.1f} ft 3 dB less sensitive\n\n"
            + "\n".join(rows))


if __name__ == "__main__":
    t0 = time.perf_counter()
    print(table(int(sys.argv[1]) if len(sys.argv) > 1 else 600,
                tuple(int(k) for k in sys.argv[2].split(",")) if len(sys.argv) > 2 else (1, 3, 5)))
    print(f"\n{time.perf_counter() - t0:.0f} s")
