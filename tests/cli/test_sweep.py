"""Sweeps: common random numbers across points, CIs, local workers and a Dask cluster alike."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HARTFORD = ROOT / "scenarios" / "hartford-patrol-shift.yaml"
SHORT = ["--set", "shift.duration_h=2"]


def sweep(out, *extra):
    cmd = [sys.executable, "-m", "bwclab", "sim", "sweep", "--scenario", str(HARTFORD), *SHORT,
           "--vary", "signal.detection.r50_ft=20,60", "--vary", "camera.buffer_s=0,30",
           "--reps", "3", "--seed", "9", "--out", str(out), *map(str, extra)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)


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
