"""`bwclab nightly` and the history commands' work: certify into a dated folder, record the run, compare it
with a baseline, write the night's junit.xml and the trend page.

Exit codes: 0 everything passes with no regression; 1 a spec failure, an error, an incomplete run or a
regression; 2 a usage or config error (never a traceback); 3 the bench, not the camera, failed (an
instrument unreachable, a port lost, the emulator gone): the night says nothing about the camera.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict
from pathlib import Path

from bwclab.commands.certify import BENCH_LOST, INTERRUPTED, Tick, certify, check_inputs
from bwclab.commands.terminal import CertifyDisplay
from bwclab.core.builtin import resolve
from bwclab.core.outfolder import atomic_write
from bwclab.history.drift import ALPHA, MIN_NIGHTS, Drift, Judged, Judgement, comparable, judge, last_n
from bwclab.history.record import RunRecord, read_run
from bwclab.history.store import History
from bwclab.history.trends import write_page
from bwclab.rig.certificate import read_certificate
from bwclab.rig.suite import DEFAULT_SPEC

DEFAULT_BASELINE = "last:5"
NIGHT_PLAN = "night.json"  # in a night's folder: what the night is judged against, for a resume to finish it


def record_run(history_url: str, folder: Path) -> tuple[int, bool]:
    with History(history_url) as h:
        return h.record(read_run(folder))


def judgement(h: History, baseline_ref: str, runs: list[RunRecord], alpha: float = ALPHA) -> Judgement:
    """Each run against its own baseline: a named run or tag, or its own last:N clean nights."""
    named = None if last_n(baseline_ref) is not None else h.run(baseline_ref)
    return judge(runs, baseline_ref, named, h.acceptances(), alpha)


def compare_run(h: History, ref: str, baseline_ref: str, alpha: float = ALPHA) -> Judged:
    """One run (`history compare --run`) against its baseline, the nights before it judged as they were."""
    cur = h.run(ref)
    runs = [r for r in h.runs() if r.spec_sha256 == cur.spec_sha256 and r.started <= cur.started]
    return judgement(h, baseline_ref, runs, alpha)[cur.run_id]


def drifts_by_run(h: History, runs: list[RunRecord], baseline_ref: str, alpha: float = ALPHA
                  ) -> dict[str, list[Drift]]:
    """Each run compared with its own baseline (a fixed run or tag, or its own last:N)."""
    return judgement(h, baseline_ref, runs, alpha).drifts_by_run()


def write_trends(h: History, path: Path, baseline_ref: str, last: RunRecord | None = None, alpha: float = ALPHA,
                 judged: Judgement | None = None) -> Path:
    runs = h.runs()
    if last is not None:
        runs = [r for r in runs if r.spec_sha256 == last.spec_sha256]
    last = last or (runs[-1] if runs else None)
    judged = judged or judgement(h, baseline_ref, runs, alpha)
    baseline = judged[last.run_id].baseline if last is not None else []
    return write_page(path, runs, baseline, judged.drifts_by_run(), last, h.acceptances())


def judge_night(h: History, night: Path, baseline_ref: str, alpha: float) -> Judged:
    """Record the night's run, judge it against its baseline, write drift.json, junit.xml and the trend page
    (in the folder above the night's)."""
    run_dir = night / "run"
    rid, _ = h.record(read_run(run_dir))
    run = h.runs([rid])[0]
    judged = judgement(h, baseline_ref, [r for r in h.runs() if r.spec_sha256 == run.spec_sha256], alpha)
    mine = judged[run.run_id]
    atomic_write(night / "drift.json", json.dumps({
        "run": rid, "run_id": run.run_id, "baseline": [b.id for b in mine.baseline], "baseline_ref": baseline_ref,
        "left_out": _left_out(judged, mine), "min_nights": MIN_NIGHTS, "correction": "Holm", "alpha": alpha,
        "drift": [asdict(d) for d in mine.drifts]}, indent=2, default=str) + "\n")
    junit(night / "junit.xml", run, mine.drifts, _expected(run_dir))
    write_trends(h, night.parent / "trends.html", baseline_ref, run, alpha, judged)
    return mine


def _left_out(judged: Judgement, mine: Judged) -> list[dict[str, object]]:
    """The nights that passed their spec but stay out of this baseline: they regressed, and no one accepted it
    (those since the oldest baseline night, or all when the baseline is empty)."""
    since = mine.baseline[0].started if mine.baseline else ""
    return [{"run": j.run.id, "regressed": [f"{d.requirement}[{d.camera}]" for d in j.drifts
                                            if d.verdict == "regressed"]}
            for j in judged.nights.values() if j.run.verdict == "pass" and not j.clean
            and comparable(j.run, mine.run) and j.run.started > since]


def night_exit(rc: int, run: RunRecord, drifts: list[Drift]) -> int:
    if rc in (BENCH_LOST, INTERRUPTED):
        return rc
    regressed = any(d.verdict == "regressed" for d in drifts)
    return 1 if rc != 0 or regressed or run.verdict != "pass" else 0


def finish_night(history_url: str, run_dir: Path, rc: int) -> int | None:
    """A night's run finished by `rig certify --resume --history`: judge and write it as the night would
    have (drift.json, junit.xml, the trend page) and return the night's exit code; None when `run_dir` is not
    a night's run folder (no night.json beside it)."""
    plan_path = run_dir.parent / NIGHT_PLAN
    if run_dir.name != "run" or not plan_path.is_file() or not (run_dir / "measurements.json").exists():
        return None
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    with History(history_url) as h:
        mine = judge_night(h, run_dir.parent, str(plan["baseline"]), float(plan["alpha"]))
    return night_exit(rc, mine.run, mine.drifts)


def junit(path: Path, run: RunRecord, drifts: list[Drift], expected: list[tuple[str, str]]) -> None:
    """One test case per requirement and camera for the spec verdict, and one for drift."""
    cases: list[ET.Element] = []
    by_pair = {(r.requirement, r.camera): r for r in run.results}
    for req, cam in expected:
        case = ET.Element("testcase", classname=f"bwclab.spec.{cam}", name=f"{req}[{cam}] spec")
        r = by_pair.get((req, cam))
        if r is None:
            ET.SubElement(case, "error", message="not judged: " + (run.lost or "the run ended before it"))
        elif r.verdict == "fail":
            ET.SubElement(case, "failure", message=f"{r.quantity} = {r.value} outside the limit")
        elif r.verdict == "error":
            ET.SubElement(case, "error", message="the measurement is unsure or incomplete")
        elif r.verdict == "not applicable":
            ET.SubElement(case, "skipped", message="not applicable on this bench")
        cases.append(case)
    for d in drifts:
        case = ET.Element("testcase", classname=f"bwclab.drift.{d.camera}", name=f"{d.requirement}[{d.camera}] drift")
        eff = "" if d.effect is None else f"{d.effect:+.4g} [{d.ci_low:+.4g}, {d.ci_high:+.4g}] {d.units}"
        said = "; ".join(x for x in (d.note, d.between_nights) if x)
        if d.verdict == "regressed":
            ET.SubElement(case, "failure", message=f"regressed: {eff} ({d.test}) {said}".strip())
        elif d.verdict == "no baseline":
            ET.SubElement(case, "skipped", message="no baseline result to compare with")
        else:
            ET.SubElement(case, "system-out").text = f"{d.verdict}: {eff} {said}".strip()
        cases.append(case)
    fails = sum(c.find("failure") is not None for c in cases)
    errors = sum(c.find("error") is not None for c in cases)
    skipped = sum(c.find("skipped") is not None for c in cases)
    suite = ET.Element("testsuite", name="bwclab nightly", tests=str(len(cases)), failures=str(fails),
                       errors=str(errors), skipped=str(skipped), timestamp=run.started)
    suite.extend(cases)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    atomic_write(path, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")


def night_folder(out_root: Path) -> Path:
    """A new dated folder, made atomically: two nights started in the same second get two folders."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_root.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        night = out_root / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            night.mkdir()
        except FileExistsError:
            continue
        return night
    raise FileExistsError(f"{out_root}: no free night folder for {stamp}")


def nightly(bench: str, requirements: str | None, history_url: str, baseline_ref: str, out_root: Path,
            faults: Path | None, operator: str | None = None, require_calibration: bool = False,
            tick: Tick | None = None, alpha: float = ALPHA, display: CertifyDisplay | None = None
            ) -> tuple[int, Path]:
    """One night: certify, record, compare, junit.xml, trends.html. (exit code, the night's folder)."""
    with History(history_url) as h:  # a bad history URL, a newer schema, an unknown baseline: before the bench
        if last_n(baseline_ref) is None:
            h.resolve(baseline_ref)
    bench_path, spec_path = resolve("bench", bench), resolve("spec", requirements or DEFAULT_SPEC)
    check_inputs(bench_path, spec_path, None, faults, out_root / "(a new night)", False, require_calibration)
    night = night_folder(out_root)  # only once every input is good: a typo leaves no empty night behind
    atomic_write(night / NIGHT_PLAN, json.dumps({"baseline": baseline_ref, "alpha": alpha}, indent=2) + "\n")
    run_dir = night / "run"
    rc = certify(bench, requirements, None, faults, run_dir, False, tick=tick, operator=operator,
                 require_calibration=require_calibration, display=display)
    if not (run_dir / "measurements.json").exists():
        return (rc if rc in (BENCH_LOST, INTERRUPTED) else max(rc, 1)), night
    with History(history_url) as h:
        mine = judge_night(h, night, baseline_ref, alpha)
    return night_exit(rc, mine.run, mine.drifts), night


def _expected(run_dir: Path) -> list[tuple[str, str]]:
    """Every requirement and camera the run was asked to judge, judged or not."""
    cert = read_certificate(run_dir / "measurements.json")
    pairs = [(r.requirement, r.camera) for r in cert.results] + [(u.requirement, u.camera) for u in cert.unjudged]
    return list(dict.fromkeys(pairs))
