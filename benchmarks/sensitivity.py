"""The Hartford scenario's assumptions, each moved to another plausible value: how far the headline figures move
(paired over the same replications: common random numbers), for docs/model.md's sensitivity table.
`python -m benchmarks.sensitivity [REPS] [VARIANT]` prints the table as Markdown (VARIANT: all-triggers by default)."""

from __future__ import annotations

import sys
from typing import Any

from bwclab.core.builtin import resolve
from bwclab.sim.replicate import aggregate, paired, run_reps
from bwclab.sim.scenario import load_scenario

_LEVELS = {"service": 0.62, "disturbance": 0.70, "domestic": 0.80, "person_crime": 0.80, "pursuit": 0.80,
           "traffic_stop": 0.90}  # hartford-patrol-shift.yaml's camera.manual.by_call_type


def _compliance(shift: float) -> list[str]:
    """Every call type's manual compliance moved by `shift`, kept within 0-1."""
    moved = {t: round(min(max(p + shift, 0.0), 1.0), 2) for t, p in _LEVELS.items()}
    return ["camera.manual.by_call_type={" + ", ".join(f"{t}: {p}" for t, p in moved.items()) + "}"]


ASSUMPTIONS: list[tuple[str, str, list[str]]] = [
    ("manual compliance, every call type", "-0.15 (service 0.62 -> 0.47)", _compliance(-0.15)),
    ("manual compliance, every call type", "+0.08 (service 0.62 -> 0.70)", _compliance(0.08)),
    ("manual compliance, non-violent calls", "odds ratio 0.4 -> 0.15 (service 0.62 -> 0.38)",
     ["camera.manual.by_call_type.service=0.38"]),
    ("officer spread of compliance", "logit sd 1.0 -> 0.5", ["camera.manual.officer_spread_logit=0.5"]),
    ("officer spread of compliance", "logit sd 1.0 -> 1.5", ["camera.manual.officer_spread_logit=1.5"]),
    ("presses en route on priority calls", "30% -> 0%", ["camera.manual.en_route_share=0"]),
    ("presses en route on priority calls", "30% -> 60%", ["camera.manual.en_route_share=0.6"]),
    ("compliance at the program's start", "steady state -> Beta mean 0.26, on arrival",
     ["camera.manual.by_call_type={}", "camera.manual.officer_spread_logit=0", "camera.manual.when=arrival",
      "camera.manual.compliance={dist: beta, a: 1.04, b: 2.95}"]),
    ("holster draws", "every type x0.5", [f"call_types.{t}.holster.probability={p}" for t, p in
                                          (("service", 0.0025), ("disturbance", 0.01), ("domestic", 0.015),
                                           ("person_crime", 0.075), ("pursuit", 0.15), ("traffic_stop", 0.005))]),
    ("holster draws", "every type x2", [f"call_types.{t}.holster.probability={p}" for t, p in
                                        (("service", 0.01), ("disturbance", 0.04), ("domestic", 0.06),
                                         ("person_crime", 0.3), ("pursuit", 0.6), ("traffic_stop", 0.02))]),
    ("tasers armed, not fired", "3x -> 5x the fired rate", [f"call_types.{t}.taser.armed={a}" for t, a in
                                                           (("service", 0.0004), ("disturbance", 0.00375),
                                                            ("domestic", 0.0075), ("person_crime", 0.011),
                                                            ("pursuit", 0.02), ("traffic_stop", 0.001))]),
    ("officers on foot or bicycle", "5% -> 20%", ["fleet.on_foot_share=0.2"]),
    ("patrol speed", "20 -> 30 mph", ["patrol.speed_mph=30"]),
    ("emergency speed", "40 -> 55 mph", ["patrol.emergency_speed_mph=55"]),
    ("detour factor", "1.3 -> 1.6", ["patrol.detour_factor=1.6"]),
    ("parked between legs", "5-20 -> 10-40 min", ["patrol.park_s=[600,2400]"]),
    ("walking pace", "4.5 -> 3 ft/s", ["patrol.walk_speed_ftps=3"]),
    ("call processing", "45 -> 90 s mean", ["dispatch.processing_s={dist: lognormal, mean: 90, cv: 0.5}"]),
    ("time on duties", "33% -> 15%", ["dispatch.duties.share=0.15"]),
    ("priority responses", "service 10% -> 30%", ["call_types.service.priority=0.3"]),
    ("critical moment after arrival", "service 0-120 -> 60-300 s",
     ["call_types.service.critical_after_arrival_s=[60,300]"]),
    ("lights on at the scene", "disturbance 30% -> 60%", ["call_types.disturbance.scene.lights.probability=0.6"]),
    ("lights timing", "0-30 -> 60-180 s after the stop",
     [f"call_types.{t}.scene.lights.after_s=[60,180]" for t in ("disturbance", "domestic", "person_crime")]),
    ("contact waits for cover", "50% -> 0%",
     [f"call_types.{t}.scene.wait_for_cover=0" for t in ("disturbance", "domestic", "person_crime")]),
    ("contact waits for cover", "50% -> 100%",
     [f"call_types.{t}.scene.wait_for_cover=1" for t in ("disturbance", "domestic", "person_crime")]),
    ("foot pursuits", "person crime 3% -> 10%", ["call_types.person_crime.scene.pursuit.probability=0.1"]),
    ("struggles", "person crime 5% -> 15%", ["call_types.person_crime.scene.struggle=0.15"]),
    ("camera left asleep", "5% -> 15%", ["camera.sleep_probability=0.15"]),
    ("bystander stops the camera", "30-180 -> 10-60 s", ["camera.stop_unassigned_after_s=[10,60]"]),
    ("camera mount", "chest -> head", ["camera.mount=head"]),
    ("view blocked in a draw or struggle", "chest 30% -> 60%", ["camera.occlusion={chest: 0.6, head: 0.1}"]),
    ("facing off the subject", "+/-30 -> +/-60 deg", ["camera.heading_spread_deg=60"]),
    ("manual start delay", "30 -> 60 s mean", ["camera.manual.delay_s={dist: lognormal, mean: 60, cv: 1.0}"]),
    ("dash camera lens", "110 -> 80 deg", ["dash.fov_deg=80"]),
    ("taser and holster body loss", "3 -> 6 dB",
     ["signal.emitters.taser.loss_db=6", "signal.emitters.holster.loss_db=6"]),
    ("camera start-up after discovery", "200 -> 500 ms", ["signal.ble.processing_ms=500"]),
    ("context needed before the moment", "10 -> 20 s", ["metrics.context_s=20"]),
    ("body loss at the wearer's back", "15 -> 0 dB (off)", ["signal.body_loss_db=0"]),
    ("body loss at the wearer's back", "15 -> 10 dB", ["signal.body_loss_db=10"]),
    ("body loss at the wearer's back", "15 -> 20 dB", ["signal.body_loss_db=20"]),
    ("cruiser to the stopped car", "30-40 -> 20-30 ft", ["call_types.traffic_stop.scene.cruiser_stop_ft=[20,30]"]),
    ("cruiser to the stopped car", "30-40 -> 40-50 ft", ["call_types.traffic_stop.scene.cruiser_stop_ft=[40,50]"]),
    ("body camera lens, horizontal", "127 -> 141 deg (rectilinear)", ["camera.fov_deg=141"]),
    ("vehicle inputs' emitter loss", "0 -> 6 dB (door, siren, speed, crash)",
     [f"signal.emitters.{k}.loss_db=6" for k in ("door", "siren", "speed", "crash")]),
    ("speed threshold", "35 -> 50 mph", ["signal.vehicle.speed_mph=50"]),
    ("setting off to passing the threshold", "5-20 -> 20-60 s", ["signal.vehicle.speed_after_s=[20,60]"]),
    ("crashes", "0.0002 -> 0.002 per cruiser-hour", ["signal.vehicle.crash_per_hour=0.002"]),
]
FIGURES = ("capture_rate", "in_frame_rate", "any_camera_rate")


def table(reps: int = 20, variant: str = "all-triggers") -> str:
    path = resolve("scenario", "hartford-patrol-shift")
    base_sc = load_scenario(path, variant=variant)
    base = run_reps(base_sc, base_sc.seed, reps)[1]
    got = aggregate(base)["figures"]
    lines = [f"Base ({variant}, {reps} replications): " + ", ".join(
        f"{f.replace('_', ' ')} {got[f]['mean']:.3f} [{got[f]['ci_low']:.3f}, {got[f]['ci_high']:.3f}]"
        for f in FIGURES), "",
             "| assumption | moved | capture (every officer recording) | in frame | any camera, dash included |",
             "|---|---|---|---|---|"]
    for name, moved, sets in ASSUMPTIONS:
        sc = load_scenario(path, sets, variant)
        if sc.model_dump() == base_sc.model_dump():
            raise ValueError(f"{name} ({moved}): the override changes nothing in the scenario")
        other = run_reps(sc, sc.seed, reps)[1]
        cells = [_fmt(paired(base, other, f)) for f in FIGURES]
        lines.append(f"| {name} | {moved} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(d: dict[str, Any]) -> str:
    return f"{d['mean']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]"


if __name__ == "__main__":
    print(table(int(sys.argv[1]) if len(sys.argv) > 1 else 20, sys.argv[2] if len(sys.argv) > 2 else "all-triggers"))
