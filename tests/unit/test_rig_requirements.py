"""Requirements files, verdicts, and the trial loop's bookkeeping (errors, retries, resume)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from bwclab.core.config import ConfigError
from bwclab.rig.interfaces import DriverError
from bwclab.rig.measurements import Limit, Measurement
from bwclab.rig.procedures.base import Context, Plan, run_steps
from bwclab.rig.procedures.declare import Options
from bwclab.rig.requirements import Requirement, check_against_bench, load_spec, unmet, verdict
from bwclab.rig.trials import Row, StepResult, TrialStore, camera_causes, camera_rows

ROOT = Path(__file__).resolve().parents[2]


def req(**kw: Any) -> Requirement:
    base: dict[str, Any] = {"id": "R1", "text": "t", "procedure": "latency", "params": {"trigger": "light_bar"},
                            "quantity": "p95", "limit": {"max": 1.0}, "units": "s"}
    return Requirement.model_validate(base | kw)


def test_default_spec_loads_and_names_every_procedure() -> None:
    spec = load_spec(ROOT / "fixtures" / "requirements" / "default.yaml")
    assert {r.procedure for r in spec.requirements} == {
        "latency", "coverage", "window", "buffer", "group", "allowlist", "powercut", "sleep", "console", "clock"}
    cov = next(r for r in spec.requirements if r.procedure == "coverage")
    assert cov.judge == "lower" and cov.limit.min == 0.95 and cov.measure["at_ft"] == 30


def test_verdict_judges_the_chosen_side_of_the_uncertainty() -> None:
    m = Measurement("p_at", 0.97, "", 40, low=0.93, high=0.99)
    p_at: dict[str, Any] = {"procedure": "coverage", "quantity": "p_at", "units": "", "params": {"at_ft": 30},
                            "measure": {"at_ft": 30}, "limit": {"min": 0.95}}
    assert verdict(req(**p_at), m) == "pass"
    assert verdict(req(**p_at, judge="lower"), m) == "fail"
    assert verdict(req(judge="upper"), Measurement("p95", 0.5, "s", 5, low=0.3, high=None)) == "fail"
    assert verdict(req(), Measurement("p95", math.inf, "s", 5)) == "fail"  # misses count as infinitely late
    assert verdict(req(), Measurement("p95", 0.999, "s", 5)) == "pass"


LAT_IN = "requirements: [{id: LAT, text: t, procedure: latency, quantity: p95, limit: {max: 250}%s}]"
HASH_IN = "requirements: [{id: HASH, text: t, procedure: buffer, quantity: hash_mismatches, limit: {max: 0}%s}]"


@pytest.mark.parametrize(("text", "expected"), [
    ("requirements: [{id: A, text: t, procedure: lattency, quantity: p95, limit: {max: 1}}]",
     "requirements.0: Value error, procedure 'lattency' is not one of"),
    ("requirements: [{id: A, text: t, procedure: latency, quantity: p96, limit: {max: 1}}]",
     "quantity 'p96' of latency is not one of"),
    ("requirements: [{id: A, text: t, procedure: latency, quantity: p95, limit: {max: 1, min: 0}}]",
     "requirements.0.limit: Value error, a limit is exactly one of: max, min"),
    ("requirements: [{id: A, text: t, procedure: latency, quantity: p95, limit: {max: 1}, trials: 0}]",
     "requirements.0.trials: Input should be greater than or equal to 1"),
    ("requirements: []", "requirements: List should have at least 1 item"),
    # units that are missing, or do not convert exactly to the quantity's
    (LAT_IN % ", units: ft", "requirements.0 (LAT).units: 'ft' does not convert exactly to 's': p95 of latency is "
                             "measured in s; expected one of 's', 'ms', 'us', 'min'"),
    (LAT_IN % "", "requirements.0 (LAT).units: missing: p95 of latency is measured in s"),
    (LAT_IN % ", units: '%'", "requirements.0 (LAT).units: '%' does not convert exactly to 's'"),
    (HASH_IN % ", units: '%'", "requirements.0 (HASH).units: '%' given: hash_mismatches of buffer is measured in no "
                               "units; expected one of '' (none)"),
    ("requirements: [{id: BUF, text: t, procedure: buffer, quantity: buffer_error_frames, limit: {max: 1}, "
     "units: s}]", "requirements.0 (BUF).units: 's' does not convert exactly to 'frames'"),
])
def test_bad_requirements_name_the_file_and_the_field(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_spec(path)
    assert str(path) in err.value.render() and expected in err.value.render()


def test_limit_text() -> None:
    assert Limit(max=1.0).text("s") == "<= 1 s" and Limit(min=0.95).text("") == ">= 0.95"


class SeqRow(Row):
    seq: int = 0


def rows(cams: list[str], seq: int = 0) -> StepResult:
    return StepResult.of({s: SeqRow(seq=seq) for s in cams})


class FakeContext(Context):
    """The real context's trial loop and per-camera bookkeeping, with no bench behind it."""

    def __init__(self, store: TrialStore, cameras: list[str], out: Path) -> None:
        super().__init__(cast(Any, None), store, cameras, out)
        self.recovered: list[list[str] | None] = []

    def recover(self, serials: list[str] | None = None) -> None:
        self.recovered.append(serials)


def session(path: Path) -> TrialStore:
    """A process opening the run folder: a new session, as the campaign starts one."""
    store = TrialStore(path)
    store.begin_session()
    return store


def test_errored_steps_are_kept_with_their_cause_and_retried(tmp_path: Path) -> None:
    store = session(tmp_path / "trials.sqlite")
    ctx = FakeContext(store, ["A"], tmp_path)
    calls: list[int] = []

    def step(seq: int, cams: list[str]) -> StepResult:
        calls.append(seq)
        if seq == 1 and calls.count(1) < 3:
            raise TimeoutError("instrument timeout")
        if seq == 2:
            raise OSError("port gone")
        return rows(cams, seq)

    run_steps(ctx, Plan("proc x=1", 4, 2), ["A"], step)
    got = store.trials("proc x=1")
    assert [(t.seq, t.status) for t in got] == [(0, "ok"), (1, "error"), (1, "error"), (1, "ok"),
                                                (2, "error"), (2, "error"), (2, "error"), (3, "ok")]
    assert got[1].cause == "TimeoutError: instrument timeout" and got[4].cause == "OSError: port gone"
    assert ctx.recovered == [None] * 5
    store.close()


def test_one_cameras_failure_is_retried_for_that_camera_alone(tmp_path: Path) -> None:
    store = session(tmp_path / "trials.sqlite")
    ctx = FakeContext(store, ["A", "B", "C"], tmp_path)
    seen: list[tuple[int, list[str]]] = []
    flaky = {"B": 2}  # B's console fails on its first two tries of step 1

    def part(seq: int, s: str) -> SeqRow:
        if seq == 1 and flaky.get(s, 0) > 0:
            flaky[s] -= 1
            raise DriverError(f"camera {s}: console garbage")
        return SeqRow(seq=seq)

    def step(seq: int, cams: list[str]) -> StepResult:
        seen.append((seq, cams))
        return StepResult.of(ctx.each(cams, lambda s: part(seq, s)))

    run_steps(ctx, Plan("k", 3, 2), ["A", "B", "C"], step)
    assert seen == [(0, ["A", "B", "C"]), (1, ["A", "B", "C"]), (1, ["B"]), (1, ["B"]), (2, ["A", "B", "C"])]
    assert ctx.recovered == [["B"], ["B"]]
    trials = store.trials("k")
    assert [len(camera_rows(trials, s, SeqRow)) for s in "ABC"] == [3, 3, 3]  # nothing lost, nothing doubled
    assert camera_causes(trials, "B") == ["DriverError: camera B: console garbage"] * 2
    assert camera_causes(trials, "A") == [] and camera_causes(trials, "C") == []
    store.close()


def test_a_camera_still_failing_after_its_retries_gives_up_and_the_others_go_on(tmp_path: Path) -> None:
    store = session(tmp_path / "trials.sqlite")
    ctx = FakeContext(store, ["A", "B"], tmp_path)

    def part(s: str) -> SeqRow:
        if s == "B":
            raise TimeoutError("no clip in the dock")
        return SeqRow()

    run_steps(ctx, Plan("k", 2, 1), ["A", "B"], lambda seq, cams: StepResult.of(ctx.each(cams, part)))
    trials = store.trials("k")
    assert len(camera_rows(trials, "A", SeqRow)) == 2 and camera_rows(trials, "B", SeqRow) == []
    assert len(camera_causes(trials, "B")) == 4  # two steps, two attempts each


def test_resume_runs_only_the_missing_steps_and_loses_none(tmp_path: Path) -> None:
    db = tmp_path / "trials.sqlite"
    store = session(db)
    ran: list[int] = []

    def interrupted(seq: int, cams: list[str]) -> StepResult:
        if seq == 3:
            raise KeyboardInterrupt  # the rig's host is stopped mid-run
        ran.append(seq)
        return rows(cams, seq)

    with pytest.raises(KeyboardInterrupt):
        run_steps(FakeContext(store, ["A"], tmp_path), Plan("k", 6, 1), ["A"], interrupted)
    store.close()
    store = session(db)  # a new process opens the same run folder
    again: list[int] = []

    def resumed(seq: int, cams: list[str]) -> StepResult:
        again.append(seq)
        return rows(cams, seq)

    run_steps(FakeContext(store, ["A"], tmp_path), Plan("k", 6, 1), ["A"], resumed)
    assert ran == [0, 1, 2] and again == [3, 4, 5]
    assert sorted(t.seq for t in store.trials("k") if t.status == "ok") == [0, 1, 2, 3, 4, 5]
    store.close()


def test_resume_retries_a_camera_dropped_before_the_interruption(tmp_path: Path) -> None:
    db = tmp_path / "trials.sqlite"
    store = session(db)
    ctx = FakeContext(store, ["A", "B"], tmp_path)

    def part(s: str) -> SeqRow:
        if s == "B":
            raise OSError("port gone")
        return SeqRow()

    def first(seq: int, cams: list[str]) -> StepResult:
        if cams == ["B"]:
            raise KeyboardInterrupt  # stopped before B's retry could run
        return StepResult.of(ctx.each(cams, part))

    with pytest.raises(KeyboardInterrupt):
        run_steps(ctx, Plan("k", 2, 1), ["A", "B"], first)
    store.close()
    store = session(db)
    ctx = FakeContext(store, ["A", "B"], tmp_path)
    seen: list[tuple[int, list[str]]] = []

    def resumed(seq: int, cams: list[str]) -> StepResult:
        seen.append((seq, cams))
        return rows(cams, seq)

    run_steps(ctx, Plan("k", 2, 1), ["A", "B"], resumed)
    assert seen == [(0, ["B"]), (1, ["A", "B"])]
    assert [len(camera_rows(store.trials("k"), s, SeqRow)) for s in "AB"] == [2, 2]
    store.close()


def test_a_resume_gives_steps_that_errored_while_the_bench_was_down_a_fresh_retry_budget(tmp_path: Path) -> None:
    db = tmp_path / "trials.sqlite"
    store = session(db)
    down = FakeContext(store, ["A"], tmp_path)

    def bench_down(seq: int, cams: list[str]) -> StepResult:
        raise OSError("pty vanished")

    run_steps(down, Plan("k", 3, 1), ["A"], bench_down)  # every step uses up its retries
    assert [t.status for t in store.trials("k")] == ["error"] * 6
    store.close()
    store = session(db)
    again: list[int] = []

    def back(seq: int, cams: list[str]) -> StepResult:
        again.append(seq)
        return rows(cams, seq)

    run_steps(FakeContext(store, ["A"], tmp_path), Plan("k", 3, 1), ["A"], back)
    assert again == [0, 1, 2]  # none skipped as "retries used up"
    assert len(camera_rows(store.trials("k"), "A", SeqRow)) == 3
    store.close()


def bench_without_taser(tmp_path: Path) -> Any:
    from bwclab.bench.description import load_bench

    data = yaml.safe_load((ROOT / "fixtures" / "demo.yaml").read_text())
    del data["emitters"]["taser"]
    data["instruments"]["scope"]["channels"].pop(4)
    data["cameras"]["CAM003"].pop("psu_channel")
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_bench(path)


def write_spec(tmp_path: Path, reqs: list[dict[str, Any]], **top: Any) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({"name": "s", "requirements": reqs, **top}))
    return path


GROUP = {"id": "GROUP", "text": "group", "procedure": "group", "params": {"trigger": "taser"},
         "quantity": "fraction_activated", "limit": {"min": 1.0}}
POWER = {"id": "POWER", "text": "power cut", "procedure": "powercut", "params": {"trigger": "holster"},
         "quantity": "damaged_clips", "limit": {"max": 0}}


def test_a_requirement_naming_an_emitter_the_bench_lacks_is_refused_with_its_id_and_field(tmp_path: Path) -> None:
    bench = bench_without_taser(tmp_path)
    path = write_spec(tmp_path, [GROUP])
    with pytest.raises(ConfigError) as err:
        check_against_bench(load_spec(path), path, bench, list(bench.cameras))
    assert "requirements.0 (GROUP).params.trigger: no taser emitter on bench" in err.value.render()


def test_an_optional_requirement_the_bench_cannot_serve_is_not_applicable_and_says_why(tmp_path: Path) -> None:
    bench = bench_without_taser(tmp_path)
    path = write_spec(tmp_path, [GROUP | {"optional": True}])
    spec = load_spec(path)
    check_against_bench(spec, path, bench, list(bench.cameras))  # accepted
    assert "no taser emitter on this bench (optional requirement)" in str(unmet(spec.requirements[0], bench, "CAM001"))


def test_a_camera_the_bench_file_declares_without_a_capability_refuses_the_run_unless_the_requirement_is_optional(
        tmp_path: Path) -> None:
    bench = bench_without_taser(tmp_path)
    path = write_spec(tmp_path, [POWER])
    with pytest.raises(ConfigError) as err:
        check_against_bench(load_spec(path), path, bench, list(bench.cameras))
    assert str(path) in err.value.render()
    assert err.value.problems == ["requirements.0 (POWER): camera CAM003 cannot be judged: the camera has no supply "
                                  "channel on this bench (powercut needs its psu); wire it in bench 'emulated bench "
                                  "(demo)' or mark the requirement optional: true"]
    check_against_bench(load_spec(path), path, bench, ["CAM001"])  # the cameras to be judged are all wired
    optional = write_spec(tmp_path, [POWER | {"optional": True}])
    spec = load_spec(optional)
    check_against_bench(spec, optional, bench, list(bench.cameras))
    assert unmet(spec.requirements[0], bench, "CAM003") == "the camera has no supply channel on this bench"
    assert unmet(spec.requirements[0], bench, "CAM001") is None


def test_a_spec_cannot_allow_not_applicable_requirements_wholesale(tmp_path: Path) -> None:
    path = write_spec(tmp_path, [POWER], not_applicable="allow")
    with pytest.raises(ConfigError, match=r"not_applicable: Input should be 'forbid'"):
        load_spec(path)
    assert load_spec(write_spec(tmp_path, [POWER], not_applicable="forbid")).requirements[0].id == "POWER"


def test_the_demo_spec_refuses_a_camera_whose_indicator_is_not_wired(tmp_path: Path) -> None:
    from bwclab.bench.description import load_bench

    data = yaml.safe_load((ROOT / "fixtures" / "demo.yaml").read_text())
    data["cameras"]["CAM003"].pop("indicator")
    data["instruments"]["scope"]["channels"][2] = {"indicator": "CAM001"}
    bench_path = tmp_path / "bench.yaml"
    bench_path.write_text(yaml.safe_dump(data))
    bench = load_bench(bench_path)
    spec_path = ROOT / "fixtures" / "requirements" / "demo.yaml"
    spec = load_spec(spec_path)
    with pytest.raises(ConfigError) as err:
        check_against_bench(spec, spec_path, bench, list(bench.cameras))
    unwired = [p for p in err.value.problems
               if "camera CAM003 cannot be judged: the camera's indicator is not wired" in p]
    needing = [r.id for r in spec.requirements if "indicator" in r.proc.needs_for(r.quantity)]
    assert len(unwired) == len(needing) >= 10 and all("CAM001" not in p and "CAM002" not in p for p in unwired)


def test_a_failed_control_is_never_judged_a_pass() -> None:
    from bwclab.rig.procedures.allowlist import AllowlistRow, measure

    deaf = [AllowlistRow(foreign_activated=False, allowed_activated=False)] * 3
    m = measure("foreign_activations", deaf, Options())
    r = req(procedure="allowlist", quantity="foreign_activations", limit={"max": 0}, params={})
    assert m.value == 0 and m.unsure and verdict(r, m) == "error"  # zero foreign activations proves nothing here


def test_a_certificate_that_judged_less_never_replaces_one_that_judged_more(tmp_path: Path) -> None:
    from bwclab.rig.certificate import Certificate, Result, read_certificate, write_certificate

    result = Result(requirement="A", text="t", camera="C", verdict="fail", quantity="p95", judge="estimate",
                    limit={"max": 1.0}, units="s", value=2.0)
    rich = Certificate(bench="b", spec="s", cameras=["C"], verdict="fail", results=[result] * 12)
    poor = Certificate(bench="b", spec="s", cameras=["C"], verdict="incomplete", reason="the bench did not start")
    path = tmp_path / "measurements.json"
    assert write_certificate(path, rich) == path
    kept = write_certificate(path, poor)
    assert kept.name == "measurements.incomplete.json" and read_certificate(path).verdict == "fail"
    assert read_certificate(kept).verdict == "incomplete"


# --- units: a limit is judged in its quantity's units, whatever units the spec wrote it in -----------------

def test_a_limit_in_milliseconds_is_judged_against_a_latency_in_seconds() -> None:
    at_most_250_ms = req(limit={"max": 250}, units="ms")
    assert verdict(at_most_250_ms, Measurement("p95", 0.491, "s", 60)) == "fail"
    assert verdict(at_most_250_ms, Measurement("p95", 0.25, "s", 60)) == "pass"  # 250 ms is exactly 0.25 s
    assert verdict(at_most_250_ms, Measurement("p95", 0.2500001, "s", 60)) == "fail"
    assert at_most_250_ms.judged_limit == Limit(max=0.25)


def test_a_limit_in_percent_is_judged_against_a_fraction() -> None:
    at_least_95_pct = req(procedure="coverage", quantity="p_at", params={"at_ft": 30}, measure={"at_ft": 30},
                          limit={"min": 95}, units="%")
    assert verdict(at_least_95_pct, Measurement("p_at", 1.0, "", 60, low=0.94, high=1.0)) == "pass"
    assert verdict(at_least_95_pct, Measurement("p_at", 0.9, "", 60, low=0.8, high=0.95)) == "fail"


def test_a_reach_in_metres_is_judged_against_a_distance_in_feet() -> None:
    at_least_10_m = req(procedure="coverage", quantity="r95", params={"at_ft": 30}, limit={"min": 10}, units="m")
    assert at_least_10_m.judged_limit.min == pytest.approx(32.8084, abs=1e-4)
    assert verdict(at_least_10_m, Measurement("r95", 32.0, "ft", 60)) == "fail"
    assert verdict(at_least_10_m, Measurement("r95", 33.0, "ft", 60)) == "pass"


def test_a_result_is_recorded_in_the_quantitys_units_with_the_specs_limit_beside_it() -> None:
    from bwclab.rig.campaign import Outcome

    r = req(limit={"max": 250}, units="ms", drift={"max_change": 50})
    m = Measurement("p95", 0.491, "s", 60, low=0.4, high=0.6)
    got = Outcome("R1", "CAM001", verdict(r, m), m).record(r)
    assert (got.verdict, got.limit, got.units, got.value) == ("fail", {"max": 0.25}, "s", 0.491)
    assert (got.spec_limit, got.spec_units) == ({"max": 250.0}, "ms")
    assert got.drift_max_change == 0.05  # a comparison of nights reads latencies in seconds


def test_the_report_shows_figures_in_the_specs_units() -> None:
    from bwclab.rig import report
    from bwclab.rig.campaign import Outcome

    r = req(limit={"max": 250}, units="ms", judge="upper")
    m = Measurement("p95", 0.491, "s", 60, low=0.4, high=0.6, upper95=0.55)
    page = report.traceability([(r, Outcome("R1", "CAM001", verdict(r, m), m))])
    assert "<td style='border:1px solid #ccc;padding:2px 6px'>491 ms</td>" in page
    assert "&lt;= 250 ms" in page and "bound (550 ms)" in page


# --- what a certificate says when it judged less than its spec -----------------------------------------------

def result(verdict_: str, camera: str = "C1", requirement: str = "A", **kw: Any) -> Any:
    from bwclab.rig.certificate import Result

    return Result(requirement=requirement, text="t", camera=camera, verdict=verdict_, quantity="p95",
                  judge="estimate", limit={"max": 1.0}, units="s", **kw)


def test_not_applicable_counts_as_judged_only_where_the_spec_made_the_requirement_optional() -> None:
    from bwclab.rig.certificate import overall

    passed = result("pass", requirement="B")
    assert overall([passed, result("not applicable", optional=True)], []) == "pass"
    assert overall([passed, result("not applicable")], []) == "incomplete"
    # a camera on which every requirement was not applicable was not certified on anything
    assert overall([passed, result("not applicable", camera="C2", optional=True)], []) == "incomplete"


def test_a_narrowed_run_is_incomplete_and_says_what_it_left_out_on_purpose() -> None:
    from bwclab.rig.certificate import Unjudged, narrowing, overall, reason

    results = [result("pass", requirement="LAT")]
    unjudged = [Unjudged(requirement="COV", camera="C1", why="deselected"),
                Unjudged(requirement="LAT", camera="C2", why="camera left out"),
                Unjudged(requirement="COV", camera="C2", why="camera left out")]
    narrowed = narrowing("-k LAT", unjudged, "C1", ["C2"])
    assert narrowed == ("narrowed on purpose: -k LAT left out 1 requirement(s): COV; --camera C1 left out the "
                        "bench's other camera(s) C2")
    assert overall(results, unjudged) == "incomplete"
    assert reason(results, unjudged, "", narrowed) == narrowed  # nothing stopped: only the narrowing is said
    stopped = [*unjudged, Unjudged(requirement="WIN", camera="C1")]
    assert reason(results, stopped, "interrupted (Ctrl-C)", narrowed) == f"interrupted (Ctrl-C); {narrowed}"


# --- indicative: said wherever a verdict rests on an estimate its trials cannot bound ------------------------

def test_a_verdict_on_an_estimate_its_trials_cannot_bound_is_indicative() -> None:
    from bwclab.rig.measurements import count
    from bwclab.rig.procedures.latency import LatencyRow, measure
    from bwclab.rig.requirements import indicative

    def p95(n: int) -> Measurement:
        return measure("p95", [LatencyRow(gpio_s=0.2 + i / 1000, gpio_u_s=0.0) for i in range(n)], Options())

    assert indicative(req(), p95(5)) == "judged on its estimate: 5 trials do not bound p95 from above at 95%"
    assert indicative(req(), p95(60)) == ""  # 59 or more bound the 95th percentile
    assert indicative(req(judge="upper"), p95(5)) == ""  # judged on the bound: unbounded fails, it is not hidden
    assert verdict(req(judge="upper"), p95(5)) == "fail"
    frames = req(procedure="buffer", quantity="frame_errors", limit={"max": 0}, units="", params={})
    assert indicative(frames, count("frame_errors", [0], "clips")) == ""  # a count over the clips is exact


def test_the_grade_is_indicative_when_the_spec_says_so_or_a_verdict_rests_on_an_unbounded_estimate() -> None:
    from bwclab.rig.certificate import grade

    bounded, unbounded = result("pass"), result("fail", requirement="LAT", indicative="judged on its estimate: ...")
    assert grade("procurement", "s", [bounded]) == ("procurement", [])
    assert grade("indicative", "quick", [bounded]) == ("indicative", ["the spec (quick) is graded indicative"])
    assert grade("procurement", "s", [bounded, unbounded]) == ("indicative",
                                                                ["LAT on C1: judged on its estimate: ..."])


def test_the_shipped_quick_and_demo_specs_are_graded_indicative_and_the_default_procurement() -> None:
    grades = {name: load_spec(ROOT / "fixtures" / "requirements" / f"{name}.yaml").grade
              for name in ("default", "quick", "demo")}
    assert grades == {"default": "procurement", "quick": "indicative", "demo": "indicative"}


def test_a_profile_written_before_grades_loads_with_its_grade_unknown(tmp_path: Path) -> None:
    from bwclab.core.profile import load_profile

    path = tmp_path / "profile.yaml"
    path.write_text("format: 2\ndevice: {serial: CAM001}\nlatency: {light_bar: {samples_s: [0.3]}}\n"
                    "measured: {bench: b, spec: s}\n")
    assert load_profile(path).measured.grade == "unknown"
    path.write_text(path.read_text().replace("spec: s}", "spec: s, grade: indicative}"))
    assert load_profile(path).measured.grade == "indicative"
