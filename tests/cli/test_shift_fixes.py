"""`sim shift` writes what would have fixed each miss: fixes.csv, a row per missed officer-incident of every
replication, and summary.json's `fixes` counts; `--no-fixes` writes neither."""

import csv
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHORT = ["--set", "shift.duration_h=4"]
MISSED = ("not_triggered", "not_pressed", "pressed_late", "buffer_too_short", "out_of_range", "not_discovered",
          "arrived_after_broadcast", "camera_asleep")  # every cause but out_of_frame: the video does not reach back


def shift(out, *extra):
    cmd = [sys.executable, "-m", "bwclab", "sim", "shift", "--scenario", "hartford-patrol-shift", "--variant",
           "light-bar", *SHORT, "--reps", "3", "--seed", "4", "--no-plots", "--out", str(out), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)


def rows(path):
    with path.open() as fh:
        return list(csv.DictReader(fh))


def test_fixes_csv_has_a_row_for_every_miss_of_every_replication_and_the_summary_counts_them(tmp_path):
    r = shift(tmp_path / "run", "--workers", "2")
    assert r.returncode == 0, r.stderr
    fixes = rows(tmp_path / "run" / "fixes.csv")
    reps = rows(tmp_path / "run" / "reps.csv")
    assert list(fixes[0]) == ["rep", "incident", "officer", "cause", "buffer_s_needed", "r50_ft_needed",
                              "trigger_needed", "press_needed"]
    for rep in reps:
        mine = [f for f in fixes if f["rep"] == rep["rep"]]
        assert len(mine) == sum(int(rep[f"missed_{c}"]) for c in MISSED)
    first = {(i["incident"], i["officer"]) for i in rows(tmp_path / "run" / "incidents.csv")
             if i["present_at_critical"] == "1" and i["covered"] == "0"}
    assert {(f["incident"], f["officer"]) for f in fixes if f["rep"] == "0"} == first
    assert {f["press_needed"] for f in fixes} <= {"true", "false"}
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    got = summary["fixes"]
    assert list(got) == ["buffer_60_s", "buffer_120_s", "r50_40_ft", "r50_60_ft", "trigger_taser",
                         "trigger_holster", "trigger_door", "trigger_siren", "trigger_speed", "trigger_crash",
                         "full_compliance"]

    def per_rep(pred):
        return sum(sum(1 for f in fixes if f["rep"] == rep["rep"] and pred(f)) for rep in reps) / len(reps)

    assert got["buffer_120_s"]["mean"] == round(per_rep(lambda f: f["buffer_s_needed"] != ""), 6)
    assert got["buffer_60_s"]["mean"] == round(
        per_rep(lambda f: f["buffer_s_needed"] != "" and float(f["buffer_s_needed"]) <= 60), 6)
    assert got["trigger_door"]["mean"] == round(per_rep(lambda f: "door" in f["trigger_needed"].split(";")), 6)
    assert got["full_compliance"]["mean"] == round(per_rep(lambda f: f["press_needed"] == "true"), 6)
    assert got["trigger_door"]["n"] == 3 and got["trigger_door"]["mean"] > 0
    assert "fix_rows" not in summary["first_rep"]


def test_no_fixes_writes_no_fixes_csv_and_no_fixes_figures(tmp_path):
    r = shift(tmp_path / "run", "--no-fixes")
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "run" / "fixes.csv").exists()
    assert "fixes" not in json.loads((tmp_path / "run" / "summary.json").read_text())
