"""Sweeps: common random numbers across points, CIs, each point's paired difference from the first, a measured
profile at every point, the keys --vary accepts, local workers and a Dask cluster alike."""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bwclab.sim.replicate import HEADLINE, paired
from bwclab.sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
HARTFORD = ROOT / "scenarios" / "hartford-patrol-shift.yaml"
SHORT = ["--set", "shift.duration_h=2"]


def sweep(out, *extra):
    cmd = [sys.executable, "-m", "bwclab", "sim", "sweep", "--scenario", str(HARTFORD), *SHORT,
           "--vary", "signal.detection.r50_ft=20,60", "--vary", "camera.buffer_s=0,30",
           "--reps", "3", "--seed", "9", "--out", str(out), *map(str, extra)]
    env = {**os.environ, "COLUMNS": "200"}  # the printed table on one line a row
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600, env=env)


def rows(path):
    with path.open() as fh:
        return list(csv.DictReader(fh))


def test_sweep_writes_rows_summary_and_plots_with_common_random_numbers(tmp_path):
    r = sweep(tmp_path, "--workers", "2")
    assert r.returncode == 0, r.stderr
    table = rows(tmp_path / "sweep.csv")
    assert len(table) == 4 * 3
    # common random numbers: a replication sees the same calls at every point
    for rep in "012":
        assert len({x["incidents"] for x in table if x["rep"] == rep}) == 1
        assert len({x["seed"] for x in table if x["rep"] == rep}) == 1
    summary = rows(tmp_path / "sweep_summary.csv")
    assert len(summary) == 4
    for s in summary:
        assert float(s["capture_rate_ci_low"]) <= float(s["capture_rate_mean"]) <= float(s["capture_rate_ci_high"])
    def mean(r50, buf):
        return next(float(s["capture_rate_mean"]) for s in summary
                    if s["signal.detection.r50_ft"] == r50 and s["camera.buffer_s"] == buf)
    assert mean("60", "30") > mean("20", "0")
    assert (tmp_path / "capture_vs_signal_detection_r50_ft.png").exists()
    assert (tmp_path / "capture_vs_camera_buffer_s.png").exists()
    assert not (tmp_path / "sweep.csv.partial").exists()


def test_a_bad_sweep_point_is_refused_before_any_work(tmp_path):
    cmd = [sys.executable, "-m", "bwclab", "sim", "sweep", "--scenario", str(HARTFORD),
           "--vary", "camera.buffer_s=30,500", "--reps", "2", "--out", str(tmp_path / "o")]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2
    assert "camera.buffer_s=500" in r.stderr and "less than or equal to 120" in r.stderr


def test_a_dask_cluster_gives_the_same_rows_as_local_workers(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None, processes=True) as cluster:
        r = sweep(tmp_path / "dask", "--scheduler", cluster.scheduler_address)
    assert r.returncode == 0, r.stderr
    local = sweep(tmp_path / "local", "--workers", "1")
    assert local.returncode == 0, local.stderr
    def comparable(path):
        return [{k: v for k, v in x.items() if k != "wall_s"} for x in rows(path)]
    assert comparable(tmp_path / "dask" / "sweep.csv") == comparable(tmp_path / "local" / "sweep.csv")


def test_each_point_s_change_is_the_paired_difference_from_the_first_point(tmp_path):
    r = sweep(tmp_path, "--workers", "1")
    assert r.returncode == 0, r.stderr
    table = rows(tmp_path / "sweep.csv")
    summary = rows(tmp_path / "sweep_summary.csv")
    points = json.loads((tmp_path / "sweep.json").read_text())["points"]

    def reps_at(point):
        return [{k: None if x[k] == "" else float(x[k]) for k in HEADLINE}
                for x in sorted((x for x in table if x["point"] == point), key=lambda x: int(x["rep"]))]

    for m in HEADLINE:
        first = points[0]["difference"][m]
        if first["n"]:  # a figure no replication has (no use of force in a short shift) has no difference
            assert first["mean"] == 0.0 and float(summary[0][f"{m}_diff_mean"]) == 0.0, m
            if first["n"] > 1:  # one replication with the figure has no interval
                assert (first["ci_low"], first["ci_high"]) == (0.0, 0.0), m
    for point in range(1, 4):
        for m in HEADLINE:
            want = paired(reps_at("0"), reps_at(str(point)), m)
            assert points[point]["difference"][m] == want, (point, m)
            got = summary[point][f"{m}_diff_mean"]
            assert (got == "" and want["mean"] is None) or float(got) == pytest.approx(want["mean"], abs=1e-6)
    # the widest point moves capture, and its change says so
    assert points[3]["difference"]["capture_rate"]["mean"] > 0
    first_capture = next(line for line in r.stdout.splitlines() if " capture_rate " in line)
    assert "+0.000 [+0.000, +0.000]" in first_capture  # the first point, against itself


def short_range_profile(path):
    """The example profile with a detection curve that reaches about 3 ft (r50 = e^(5/5))."""
    prof = yaml.safe_load((ROOT / "fixtures" / "profiles" / "example.yaml").read_text())
    prof["detection"]["light_bar"].update(a=5.0, b=-5.0)
    path.write_text(yaml.safe_dump(prof))
    return path


def one_point(out, *extra):
    cmd = [sys.executable, "-m", "bwclab", "sim", "sweep", "--scenario", str(HARTFORD), *SHORT,
           "--vary", "camera.buffer_s=30", "--reps", "3", "--seed", "9", "--workers", "1", "--out", str(out),
           *map(str, extra)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_a_profile_s_detection_curve_is_the_one_each_point_uses(tmp_path):
    own = one_point(tmp_path / "own")
    assert own.returncode == 0, own.stderr
    measured = one_point(tmp_path / "measured", "--profile", short_range_profile(tmp_path / "short.yaml"))
    assert measured.returncode == 0, measured.stderr
    a, b = rows(tmp_path / "own" / "sweep.csv"), rows(tmp_path / "measured" / "sweep.csv")
    assert [x["incidents"] for x in a] == [x["incidents"] for x in b]  # the same calls: only the curve moved
    assert sum(float(x["capture_rate"]) for x in b) < sum(float(x["capture_rate"]) for x in a)
    device = json.loads((tmp_path / "measured" / "sweep.json").read_text())["device"]
    assert device["model"] == "Example-BWC" and device["profile"].endswith("short.yaml")


def test_a_profile_and_a_varied_detection_curve_are_refused_together(tmp_path):
    r = one_point(tmp_path / "o", "--profile", "example", "--vary", "signal.detection.r50_ft=20,60")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--vary signal.detection.r50_ft" in r.stderr and "profile" in r.stderr
    assert not (tmp_path / "o").exists()


def listed_keys():
    env = {**os.environ, "COLUMNS": "200", "TERM": "dumb"}
    r = subprocess.run([sys.executable, "-m", "bwclab", "sim", "sweep", "--help"], capture_output=True, text=True,
                       cwd=ROOT, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    text = r.stdout.split("Keys --vary accepts", 1)[1]
    return re.findall(r"[a-z_]+(?:\.(?:[a-z0-9_]+|<name>))+", text)


def test_help_lists_the_keys_vary_accepts():
    keys = listed_keys()
    assert {"camera.buffer_s", "signal.detection.r50_ft", "call_types.<name>.share"} <= set(keys)
    assert "seed" not in keys and "name" not in keys


def _value_at(data, key):
    node = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def test_every_listed_key_the_scenario_holds_is_accepted_by_vary(tmp_path):
    """One point that sets every listed key the Hartford shift holds to the value it has (a mapping's <name> to
    its first entry; a distribution as the constant 0.5; the shift half an hour): the sweep runs it."""
    sc = load_scenario(HARTFORD).model_dump(mode="json")
    vary = []
    for key in listed_keys():
        parts = key.split(".")
        for i, part in enumerate(parts):
            if part == "<name>":
                entries = _value_at(sc, ".".join(parts[:i]))
                parts[i] = next(iter(entries)) if entries else part
        value = _value_at(sc, ".".join(parts))
        if value is None:  # another detection kind's field, a mapping with no entry: not in this scenario
            continue
        if key == "shift.duration_h":
            value = 0.5  # a short shift: the test is of the keys
        vary += ["--vary", f"{'.'.join(parts)}={0.5 if isinstance(value, dict) else json.dumps(value)}"]
    assert len(vary) // 2 >= 50
    cmd = [sys.executable, "-m", "bwclab", "sim", "sweep", "--scenario", str(HARTFORD), *vary, "--reps", "1",
           "--workers", "1", "--out", str(tmp_path)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr
    assert len(rows(tmp_path / "sweep.csv")) == 1


def test_a_key_not_listed_is_refused_with_the_list_named(tmp_path):
    assert "camera.buffer" not in listed_keys()
    cmd = [sys.executable, "-m", "bwclab", "sim", "sweep", "--scenario", str(HARTFORD), "--vary",
           "camera.buffer=0,30", "--reps", "1", "--out", str(tmp_path / "o")]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--vary camera.buffer: not a scenario setting a sweep can vary" in r.stderr
    assert "sim sweep --help" in r.stderr
    assert not (tmp_path / "o").exists()
