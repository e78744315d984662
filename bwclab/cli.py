"""The `bwclab` command line."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.core
from pydantic_core import PydanticCustomError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from bwclab.commands.loglevel import configure, log_to
from bwclab.core.config import ConfigError

if TYPE_CHECKING:
    from bwclab.core.profile import DeviceProfile

app = typer.Typer(help="bwclab: test and predict body-camera auto-activation.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
sim_app = typer.Typer(help="Fleet simulator: a department shift in SimPy.", no_args_is_help=True)
app.add_typer(sim_app, name="sim")
bench_app = typer.Typer(help="The bench: emulate one without hardware.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
rig_app = typer.Typer(help="The rig: certify cameras on a bench.", no_args_is_help=True)
app.add_typer(rig_app, name="rig")
hil_app = typer.Typer(help="Hardware in the loop: replay a simulated shift onto a bench in real time.",
                      no_args_is_help=True)
app.add_typer(hil_app, name="hil")
history_app = typer.Typer(help="The lab's history of runs: import, tag, compare, trends.", no_args_is_help=True)
app.add_typer(history_app, name="history")

console = Console(stderr=True)
out_console = Console()

ScenarioOpt = Annotated[str, typer.Option("--scenario", help="scenario YAML file, or a built-in name "
                                          "(hartford-patrol-shift, ...)", show_default=False)]
OutOpt = Annotated[Path, typer.Option("--out", help="run folder to write", show_default=False)]
SeedOpt = Annotated[int | None, typer.Option("--seed", min=0, help="seed (default: the scenario's)")]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="empty a run folder a previous run wrote, "
                                            "instead of refusing it")]
HistoryOpt = Annotated[str | None, typer.Option(
    "--history", help="record the run in this history: a SQLite file or postgresql://USER@HOST/DB")]
HistoryUrlOpt = Annotated[str, typer.Option("--history", help="a SQLite file or postgresql://USER@HOST/DB")]
OperatorOpt = Annotated[str | None, typer.Option("--operator", help="who runs it, for the record (default: login)")]
RequireCalOpt = Annotated[bool, typer.Option("--require-calibration",
                                             help="refuse to start when an instrument's calibration is overdue")]
BaselineOpt = Annotated[str, typer.Option("--baseline", help="run number, run id, tag, or last:N (the last N "
                                          "passing runs of the same spec and camera model)")]
def finite(low: float = -math.inf, high: float = math.inf, above: float | None = None) -> Callable[[str], float]:
    """A parser for a number option: finite, in [low, high] (and above `above`). click's FLOAT takes NaN and
    infinity, and NaN passes every range check."""
    low_text = f"above {above:g}" if above is not None else f"from {low:g}"
    wanted = low_text + (f" to {high:g}" if high < math.inf else "")

    def parse(text: str | float) -> float:  # typer passes a default through the parser too
        shown = repr(text[:80] if isinstance(text, str) else text)
        try:
            number = float(text)
        except ValueError:
            raise PydanticCustomError("number", "{text}: expected a number", {"text": shown}) from None
        if not math.isfinite(number):
            raise PydanticCustomError("finite", "{text}: expected a finite number, not NaN or infinity",
                                      {"text": shown})
        if not low <= number <= high or (above is not None and number <= above):
            raise PydanticCustomError("range", "{text}: expected a number {wanted}", {"text": shown, "wanted": wanted})
        return number

    parse.__name__ = "number"  # what --help shows as the option's type
    return parse


AlphaOpt = Annotated[float, typer.Option(
    "--alpha", parser=finite(1e-6, 0.5), help="the chance of any false drift alarm in a run (Holm over its tests); "
                                        "a stricter rate needs bigger changes or more trials to flag")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="override a scenario field: key=value")]


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


RUN_FOLDER_COMMANDS = {"sim shift", "sim compare", "sim sweep", "sim calibrate", "sim backtest", "rig certify",
                       "nightly", "hil run", "demo"}


def set_log_level(ctx: typer.Context, level: LogLevel) -> LogLevel:
    """Set up the standard logging module before the command runs (bwclab/commands/loglevel.py)."""
    command = ctx.command_path.removeprefix(ctx.find_root().command_path).strip()  # "sim shift", "demo", ...
    configure(level.value, show_log_line, run_folder=command in RUN_FOLDER_COMMANDS)
    if command in RUN_FOLDER_COMMANDS:  # run.log says what ran
        import logging
        import shlex

        logging.getLogger("bwclab.cli").info("bwclab %s", shlex.join(sys.argv[1:]))
    return level


def show_log_line(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


LogLevelOpt = Annotated[LogLevel, typer.Option(
    "--log-level", callback=set_log_level, expose_value=False, is_eager=True, case_sensitive=False,
    help="log at this level and above: to run.log in the run folder (the terminal shows warnings and errors) "
         "for a command that writes one, else to the terminal")]


def fail(err: ConfigError) -> None:
    typer.echo(err.render(), err=True)  # plain: a path must never be wrapped or styled
    raise typer.Exit(2)


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[float], None]]:
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as p:
        task = p.add_task(label, total=1.0)
        yield lambda frac: p.update(task, completed=frac)


VariantOpt = Annotated[str | None, typer.Option("--variant", help="a named variant of the scenario (hartford-patrol-"
                                               "shift: manual-only, light-bar, vehicle-triggers, all-triggers, "
                                               "program-start)")]
RepsOpt = Annotated[int, typer.Option("--reps", min=1, help="replications (common random numbers): each figure "
                                      "with its 95% CI")]
WorkersOpt = Annotated[int, typer.Option("--workers", min=1, help="local worker processes")]


ProfileOpt = Annotated[str | None, typer.Option("--profile", help="measured device profile (rig certify): a file "
                                              "or a built-in name (example, emulated)")]


def device_profile(text: str) -> tuple[DeviceProfile, dict[str, Any]]:
    """`--profile` of `sim shift` and `sim sweep`: the profile (a file or a built-in name) and its device record."""
    from bwclab.core.builtin import resolve
    from bwclab.core.profile import load_profile
    from bwclab.sim.runfolder import device_record

    path = resolve("profile", text)
    prof = load_profile(path)
    return prof, device_record(prof, path)


@sim_app.command("shift")
def sim_shift(
    scenario: ScenarioOpt,
    out: OutOpt,
    seed: SeedOpt = None,
    set_: SetOpt = None,
    variant: VariantOpt = None,
    reps: RepsOpt = 20,
    workers: WorkersOpt = 1,
    profile: ProfileOpt = None,
    plots: Annotated[bool, typer.Option(help="write timeline.png and coverage.png")] = True,
    fixes: Annotated[bool, typer.Option(help="what would have fixed each miss: fixes.csv and summary.json's fixes "
                                        "(each replication re-run about 20 times)")] = True,
    overwrite: OverwriteOpt = False,
    log_level: LogLevelOpt = LogLevel.INFO,
) -> None:
    """Simulate a shift REPS times (common random numbers) and write its run folder: every figure with
    its 95% CI, and the first replication's incidents, activations and timeline."""
    import time

    from bwclab.core.builtin import resolve
    from bwclab.sim.profile import apply_profile
    from bwclab.sim.replicate import run_reps
    from bwclab.sim.runfolder import prepare_run_folder, write_run
    from bwclab.sim.scenario import load_scenario

    device: dict[str, Any] | None = None
    try:
        prepare_run_folder(out, overwrite)
        sc = load_scenario(resolve("scenario", scenario), set_ or [], variant)
        if profile is not None:
            prof, device = device_profile(profile)
            sc = apply_profile(sc, prof)
    except ConfigError as err:
        fail(err)
        return
    t0 = time.perf_counter()
    run_seed = sc.seed if seed is None else seed
    done = [0.0]
    try:
        with progress_bar(f"shift: {sc.name}, {reps} replications") as tick:
            def count(frac: float) -> None:
                done[0] = frac
                tick(frac)

            first, summaries = run_reps(sc, run_seed, reps, workers, count, fixes=fixes)
    except KeyboardInterrupt:
        console.print(f"interrupted after {round(done[0] * reps)} of {reps} replications: nothing written to {out} "
                      "(figures from part of the replications are not the run asked for)")
        raise typer.Exit(130) from None
    summary = write_run(first, summaries, out, run_seed, plots=plots, wall_s=time.perf_counter() - t0, device=device)
    log_to(out)
    show_summary(summary, out)


@sim_app.command("compare")
def sim_compare(
    out: OutOpt,
    scenario: Annotated[str | None, typer.Option("--scenario", help="scenario YAML file, or a built-in name "
                                                 "(with --profile)", show_default=False)] = None,
    profile: Annotated[list[str] | None, typer.Option("--profile", help="a device profile, a file or a built-in "
                                                      "name (give two or more)", show_default=False)] = None,
    options: Annotated[Path | None, typer.Option("--options", help="a department's options (YAML: scenario, reps, "
                                                 "seed, options with variant, profile, set, costs): writes "
                                                 "report.html and compare.json (docs/options.md)")] = None,
    seed: SeedOpt = None,
    set_: SetOpt = None,
    variant: VariantOpt = None,
    reps: Annotated[int | None, typer.Option("--reps", min=1, help="replications (common random numbers; "
                                             "default 20, or the options file's)")] = None,
    overwrite: OverwriteOpt = False,
    log_level: LogLevelOpt = LogLevel.INFO,
) -> None:
    """The same replications with each option (or each vendor's measured profile); each figure and the paired
    difference, with 95% CIs."""
    from bwclab.core.builtin import resolve
    from bwclab.core.profile import load_profile
    from bwclab.sim.compare import compare, device_names, plot
    from bwclab.sim.runfolder import clear_run_folder, prepare_run_folder, write_json
    from bwclab.sim.scenario import load_scenario

    if options is not None:
        compare_options(options, out, seed, reps, overwrite, given=bool(scenario or profile or set_ or variant))
        return
    profile = profile or []
    reps = 20 if reps is None else reps
    try:
        if scenario is None:
            raise ConfigError("--scenario", ["give a scenario (or --options)"])
        if len(profile) < 2:
            raise ConfigError("--profile", ["give two profiles (or more) to compare"])
        prepare_run_folder(out, overwrite)
        sc = load_scenario(resolve("scenario", scenario), set_ or [], variant)
        paths = [resolve("profile", p) for p in profile]
        loaded = [(p, load_profile(p)) for p in paths]
        profs = list(zip(device_names(loaded), (prof for _, prof in loaded), strict=True))
    except ConfigError as err:
        fail(err)
        return
    with progress_bar(f"compare: {sc.name}, {len(profs)} profiles x {reps} replications") as tick:
        result = compare(sc, profs, sc.seed if seed is None else seed, reps, tick, sources=paths)
    out.mkdir(parents=True, exist_ok=True)
    clear_run_folder(out, "report.html")
    write_json(out / "compare.json", result)
    log_to(out)
    plot(result, out / "compare.png")
    from rich.table import Table

    table = Table(title=f"{sc.name}: {reps} replications, 95% CIs")
    table.add_column("figure")
    for name in result["profiles"]:
        table.add_column(name, justify="right")
    for diff in result["differences"]:
        table.add_column(diff, justify="right")
    for k in ("capture_rate", "in_frame_rate", "any_camera_rate"):
        cells = [_ci(result["profiles"][n]["figures"][k]) for n in result["profiles"]]
        cells += [_ci(d[k], signed=True) for d in result["differences"].values()]
        table.add_row(k, *cells)
    out_console.print(table)
    out_console.print(f"written to {out}")


def compare_options(path: Path, out: Path, seed: int | None, reps: int | None, overwrite: bool, given: bool) -> None:
    """`sim compare --options`: every option over the same replications; report.html and compare.json."""
    from bwclab.sim.options import prepare, results, run_options
    from bwclab.sim.options_report import options_page, write_page
    from bwclab.sim.runfolder import clear_run_folder, prepare_run_folder, write_json

    try:
        if given:
            raise ConfigError("--options", ["the options file names the scenario, variants, profiles and overrides: "
                                            "give --scenario, --profile, --set and --variant there, not here"])
        spec, sc_path, prepared = prepare(path)
        prepare_run_folder(out, overwrite)
    except ConfigError as err:
        fail(err)
        return
    reps = spec.reps if reps is None else reps
    spec = spec.model_copy(update={"reps": reps})
    run_seed = seed if seed is not None else spec.seed if spec.seed is not None else prepared[0].scenario.seed
    try:
        with progress_bar(f"options: {spec.scenario}, {len(prepared)} options x {reps} replications") as tick:
            runs = run_options(prepared, run_seed, reps, tick)
    except KeyboardInterrupt:
        console.print(f"interrupted: nothing written to {out} (figures from part of the replications are not the "
                      "comparison asked for)")
        raise typer.Exit(130) from None
    result = results(spec, sc_path, prepared, runs, run_seed)
    out.mkdir(parents=True, exist_ok=True)
    clear_run_folder(out, "report.html")
    write_json(out / "compare.json", result)
    write_page(out / "report.html", options_page(result))
    log_to(out)
    for name, o in result["options"].items():
        out_console.print(f"{name}: captured {_ci(o['figures']['capture_rate'])}", markup=False, highlight=False)
    out_console.print(f"written to {out} (report.html, compare.json)", markup=False, highlight=False)


def _ci(x: dict[str, Any], signed: bool = False) -> str:
    if x["mean"] is None:
        return "n/a"
    fmt = "+.3f" if signed else ".3f"
    if x["ci_low"] is None:
        return format(x["mean"], fmt)
    return f"{x['mean']:{fmt}} [{x['ci_low']:{fmt}}, {x['ci_high']:{fmt}}]"


class SweepCommand(typer.core.TyperCommand):
    """`sim sweep --help` ends with the keys --vary accepts, read from the Scenario model when help is shown."""

    @property
    def epilog(self) -> str | None:
        from bwclab.sim.sweep import ANY, vary_keys

        return (f"Keys --vary accepts ({ANY}: a call type, trigger kind or mount the scenario names): "
                + ", ".join(vary_keys()))

    @epilog.setter
    def epilog(self, value: str | None) -> None:
        """The epilog is the key list, whatever the command was given."""


@sim_app.command("sweep", cls=SweepCommand)
def sim_sweep(
    scenario: ScenarioOpt,
    out: OutOpt,
    vary: Annotated[list[str], typer.Option("--vary", help="key=v1,v2,... (repeatable; the keys are listed below)",
                                            show_default=False)],
    reps: Annotated[int, typer.Option("--reps", min=1, help="replications per point")] = 5,
    seed: SeedOpt = None,
    set_: SetOpt = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="local worker processes")] = 2,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler, tcp://HOST:PORT")] = None,
    variant: VariantOpt = None,
    profile: ProfileOpt = None,
    log_level: LogLevelOpt = LogLevel.INFO,
) -> None:
    """Run a grid of scenario settings with common random numbers: each point's figures with 95% CIs, and each
    point's paired difference from the first point."""
    from bwclab.core.builtin import resolve
    from bwclab.sim.sweep import run_sweep

    with progress_bar("sweep") as tick:
        try:
            prof, device = device_profile(profile) if profile is not None else (None, None)
            summary = run_sweep(resolve("scenario", scenario), vary, reps, out, seed, workers, scheduler, set_ or [],
                                progress=lambda n, total: tick(n / total), variant=variant, profile=prof,
                                device=device)
        except ConfigError as err:
            fail(err)
            return
    log_to(out)
    from rich.table import Table

    keys = [k for k in summary[0] if k not in ("point", "reps", "figures", "difference")]
    shown = ("capture_rate", "in_frame_rate", "any_camera_rate", "audio_capture_rate", "use_of_force_capture_rate")
    table = Table(title=f"mean [95% CI] over {reps} replications; change: the paired difference from point 0 "
                  "(same replications)")
    for k in keys:
        table.add_column(k)
    table.add_column("figure")
    table.add_column("mean [95% CI]", justify="right")
    table.add_column("change [95% CI]", justify="right")
    for row in summary:
        for n, m in enumerate(shown):
            table.add_row(*(str(row[k]) if n == 0 else "" for k in keys), m, _ci(row["figures"][m]),
                          _ci(row["difference"][m], signed=True), end_section=n == len(shown) - 1)
    out_console.print(table)
    out_console.print(f"sweep written to {out}")


CadOpt = Annotated[Path, typer.Option("--cad", help="the CAD (dispatch) export: a CSV row per unit response",
                                      show_default=False)]
ColumnsOpt = Annotated[str | None, typer.Option("--columns", help="the exports' column map (YAML), or a shipped one: "
                                                "seattle, new-orleans, detroit, cincinnati")]
TypesOpt = Annotated[str | None, typer.Option("--types", help="the department's call types as the scenario's (YAML)")]


@sim_app.command("calibrate")
def sim_calibrate(
    cad: CadOpt,
    scenario: ScenarioOpt,
    out: Annotated[Path, typer.Option("--out", help="folder for calibrated.yaml, calibration.json and "
                                      "calibration.html", show_default=False)],
    audit: Annotated[Path | None, typer.Option("--audit", help="the evidence (audit) export: a CSV row per "
                                               "recording")] = None,
    columns: ColumnsOpt = None,
    types: TypesOpt = None,
    overwrite: OverwriteOpt = False,
    log_level: LogLevelOpt = LogLevel.INFO,
) -> None:
    """Fit the scenario's calls, call types, dispatch, manual compliance and triggers from a department's records,
    each figure with its 95% CI; writes a calibrated scenario that `sim shift` runs."""
    from bwclab.records.jobs import run_calibrate
    from bwclab.records.terminal import show_calibration

    try:
        cal = run_calibrate(scenario, cad, audit, out, columns, types, overwrite)
    except ConfigError as err:
        fail(err)
        return
    log_to(out)
    show_calibration(out_console, cal, out)


@sim_app.command("backtest")
def sim_backtest(
    scenario: ScenarioOpt,
    cad: CadOpt,
    audit: Annotated[Path, typer.Option("--audit", help="the evidence (audit) export: a CSV row per recording",
                                        show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="folder for backtest.json, backtest.html and "
                                      "backtest_reps.csv", show_default=False)],
    columns: ColumnsOpt = None,
    types: TypesOpt = None,
    reps: RepsOpt = 20,
    seed: SeedOpt = None,
    workers: WorkersOpt = 1,
    overwrite: OverwriteOpt = False,
    log_level: LogLevelOpt = LogLevel.INFO,
) -> None:
    """Run the scenario over the records' period and hold its prediction against the records: the share of officer
    responses with video, overall, by call type and by priority. Exit 0 when the records are inside the model's
    95% prediction everywhere, 1 where they are not, 2 on bad input, 130 interrupted."""
    from bwclab.records.jobs import run_backtest
    from bwclab.records.terminal import show_backtest

    try:
        with progress_bar(f"backtest: {reps} replications") as tick:
            bt = run_backtest(scenario, cad, audit, out, columns, types, reps, seed, workers, overwrite, tick)
    except ConfigError as err:
        fail(err)
        return
    except KeyboardInterrupt:
        console.print(f"interrupted: no backtest.json written; the replications that finished are in "
                      f"{out / 'backtest_reps.csv'}")
        raise typer.Exit(130) from None
    log_to(out)
    show_backtest(out_console, bt, out)
    raise typer.Exit(1 if bt["outside"] else 0)


BenchOpt = Annotated[str, typer.Option("--bench", help="bench description YAML, or a built-in name (emulated, ...)",
                                       show_default=False)]


@bench_app.command("emulate")
def bench_emulate(
    bench: BenchOpt,
    state_dir: Annotated[Path, typer.Option("--state-dir", help="where resources.json, truth.jsonl and docks go",
                                            show_default=False)],
    faults: Annotated[Path | None, typer.Option("--faults", help="faults YAML, per camera serial")] = None,
    log_level: LogLevelOpt = LogLevel.INFO,
) -> None:
    """Run an emulated bench until SIGTERM or Ctrl-C; its ports are in STATE_DIR/resources.json."""
    from bwclab.emulator.__main__ import main as emulate

    args = ["--bench", bench, "--state-dir", str(state_dir)] + (["--faults", str(faults)] if faults else [])
    raise typer.Exit(emulate(args))


@bench_app.command("check")
def bench_check(bench: Annotated[str, typer.Argument(help="bench description YAML, or a built-in name")],
                log_level: LogLevelOpt = LogLevel.INFO) -> None:
    """Check a bench file and print, per camera, the nearest and farthest distance the attenuator can place it at."""
    from rich.table import Table

    from bwclab.bench.description import load_bench
    from bwclab.core.builtin import resolve

    try:
        path = resolve("bench", bench)
        b = load_bench(path)
    except ConfigError as err:
        fail(err)
        return
    near, far = b.distance_range_ft()
    table = Table(title=f"{b.name} ({path}): valid")
    for col in ("camera", "attenuator channel", "nearest (ft)", "farthest (ft)"):
        table.add_column(col, justify="right" if col != "camera" else "left")
    for serial, c in b.cameras.items():
        chans = b.channels(serial)
        shown = ", ".join(f"{e} {ch}" for e, ch in chans.items()) if c.paths else str(c.attenuator_channel)
        table.add_row(serial, shown, f"{near:.1f}", f"{far:.1f}")
    out_console.print(table)


@rig_app.command("certify")
def rig_certify(
    bench: BenchOpt,
    out: Annotated[Path, typer.Option("--out", help="run folder to write", show_default=False)],
    requirements: Annotated[str | None, typer.Option(
        "--requirements", help="requirements YAML, or a built-in name: default, quick, demo (default: default)"
    )] = None,
    camera: Annotated[str | None, typer.Option("--camera", help="certify only this camera serial")] = None,
    faults: Annotated[Path | None, typer.Option("--faults", help="emulator faults YAML (emulated bench)")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="finish the interrupted run in --out")] = False,
    select: Annotated[str | None, typer.Option("-k", help="only requirements matching this pytest expression")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="one line per requirement")] = False,
    history: HistoryOpt = None,
    operator: OperatorOpt = None,
    require_calibration: RequireCalOpt = False,
    log_level: LogLevelOpt = LogLevel.INFO,
) -> None:
    """Certify a bench's cameras against a requirements file; report.html, junit.xml, trials.sqlite,
    measurements.json and a profile.yaml per camera in OUT. Exit 0 pass, 1 fail, error or incomplete,
    2 usage error, 3 the bench was lost, 130 interrupted."""
    from bwclab.commands.certify import certify
    from bwclab.commands.terminal import CertifyDisplay, certificate_of, show_warnings
    from bwclab.commands.verdict import show_outcome
    from bwclab.history.record import HistoryError

    try:
        if history:
            from bwclab.history.store import History

            History(history).close()  # refuse a bad URL before touching the bench
        with CertifyDisplay("certify", progress=not verbose) as display:
            rc = certify(bench, requirements, camera, faults, out, resume, select, quiet=not verbose,
                         operator=operator, require_calibration=require_calibration, display=display)
        if history and (out / "measurements.json").exists():
            from bwclab.commands.nightly import finish_night, record_run

            rid, new = record_run(history, out)
            console.print(f"history: run {rid} {'recorded' if new else 'was already recorded'} in {history}")
            night_rc = finish_night(history, out, rc)  # a night's run, resumed: finish the night as it would have
            if night_rc is not None:
                typer.echo(f"night: {out.parent} (exit {night_rc}); trends: {out.parent.parent / 'trends.html'}",
                           err=True)
                rc = night_rc
    except ConfigError as err:
        fail(err)
    except HistoryError as err:
        history_fail(err)
    show_warnings(console, display)
    show_outcome(out_console, certificate_of(display, out), out)
    raise typer.Exit(rc)


@app.command("nightly")
def nightly_cmd(
    bench: BenchOpt,
    out_root: Annotated[Path, typer.Option("--out-root", help="a dated folder per night is made here")],
    requirements: Annotated[str | None, typer.Option(
        "--requirements", help="requirements YAML, or a built-in name (default: default)")] = None,
    history: Annotated[str, typer.Option("--history", help="history: a SQLite file or postgresql://USER@HOST/DB")
                       ] = "results/history.sqlite",
    baseline: BaselineOpt = "last:5",
    faults: Annotated[Path | None, typer.Option("--faults", help="emulator faults YAML (emulated bench)")] = None,
    operator: OperatorOpt = None,
    require_calibration: RequireCalOpt = False,
    alpha: AlphaOpt = 0.05,
    log_level: LogLevelOpt = LogLevel.INFO,
) -> None:
    """One night of regression: certify into OUT_ROOT/<date>/run, record the run in the history, compare it
    with the baseline, write OUT_ROOT/<date>/junit.xml (a spec case and a drift case per requirement and
    camera) and OUT_ROOT/trends.html. Exit 0 all pass, no regression; 1 a failure or a regression;
    2 usage or config error; 3 the bench (not the camera) failed."""
    from bwclab.commands.nightly import nightly
    from bwclab.commands.terminal import CertifyDisplay, certificate_of, show_warnings
    from bwclab.commands.verdict import regressions, show_outcome
    from bwclab.history.record import HistoryError

    try:
        with CertifyDisplay("nightly") as display:
            rc, night = nightly(bench, requirements, history, baseline, out_root, faults, operator,
                                require_calibration, alpha=alpha, display=display)
    except ConfigError as err:
        fail(err)
    except HistoryError as err:
        history_fail(err)
    show_warnings(console, display)
    show_outcome(out_console, certificate_of(display, night / "run"), night / "run", regressions(night))
    typer.echo(f"night: {night} (exit {rc}); trends: {out_root / 'trends.html'}", err=True)  # plain: never wrapped
    raise typer.Exit(rc)


def history_fail(err: Exception) -> None:
    typer.echo(f"error: {err}", err=True)
    raise typer.Exit(2)


@hil_app.command("run")
def hil_run_cmd(
    scenario: ScenarioOpt,
    bench: BenchOpt,
    out: OutOpt,
    map_: Annotated[str | None, typer.Option("--map", help="OFFICER=SERIAL,... (default: the officers of the "
                                             "first scripted incident, in bench order)")] = None,
    speed: Annotated[float, typer.Option("--speed", parser=finite(above=0), help="simulated seconds per host "
                                         "second (a bench whose broadcast and buffer are 1/speed of the "
                                         "scenario's)")] = 1.0,
    seed: SeedOpt = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", help="measured device profile (a file or a built-in name: emulated): the model's prediction "
                          "for the bench cameras")] = None,
    faults: Annotated[Path | None, typer.Option("--faults", help="emulator faults YAML (emulated bench)")] = None,
    window: Annotated[int | None, typer.Option("--window", min=0, help="replay the stretch around this incident "
                                               "(a number of the shift's incidents.csv)")] = None,
    until: Annotated[float | None, typer.Option("--until", parser=finite(0), help="end the replay at this simulated "
                                                "second")] = None,
    tolerance_ms: Annotated[float, typer.Option("--tolerance-ms", parser=finite(above=0), help="a bench event "
                                                "later than this marks the run invalid")] = 20.0,
    allow_mismatch: Annotated[bool, typer.Option("--allow-mismatch", help="replay a bench whose broadcasts or "
                                                 "buffer do not stand for the scenario's at --speed (within 10%), "
                                                 "marked invalid, instead of refusing it")] = False,
    set_: SetOpt = None,
    variant: VariantOpt = None,
    overwrite: OverwriteOpt = False,
    log_level: LogLevelOpt = LogLevel.INFO,
) -> None:
    """Replay a scenario onto a bench in real time: simulated triggers fire the bench's emitters, simulated
    distances set its attenuators, its cameras' activations and footage close the loop. Writes the run folder
    of `sim shift` plus hil.json and hil.png. Exit 0 valid and as the model predicts, 1 invalid or outside
    the model's interval, 2 usage error, 3 bench lost, 130 interrupted."""
    from bwclab.commands.hil import hil_plan, hil_run, verdict_lines

    try:
        p = hil_plan(scenario, bench, out, map_, speed, seed, profile, faults, window, until, tolerance_ms, overwrite,
                     set_ or [], variant, allow_mismatch)
    except ConfigError as err:
        fail(err)
        return
    log_to(p.out)
    w = p.window
    console.print(f"hil: {p.scenario.name} on {p.bench.name}, window {w.start_s:.1f}-{w.end_s:.1f} s "
                  f"({w.length_s / p.speed:.1f} s at speed {p.speed:g}); "
                  + ", ".join(f"officer {o} = {s}" for o, s in p.omap.cameras.items()))
    try:
        rc, outcome, why = hil_run(p)
    except ConfigError as err:  # a real camera's own buffer, read once the bench is up
        fail(err)
        return
    except KeyboardInterrupt:
        console.print("hil: interrupted")
        raise typer.Exit(130) from None
    if outcome is None:
        console.print(f"hil: the bench was lost: {why}")
        raise typer.Exit(rc)
    for line in verdict_lines(outcome.hil):
        out_console.print(line)
    if outcome.summary is not None:
        show_summary(outcome.summary, out)
    out_console.print(f"{'hil.json, hil.png' if outcome.summary is not None else 'hil.json'}: {out}")
    raise typer.Exit(rc)


@history_app.command("import")
def history_import(
    runs: Annotated[list[Path], typer.Argument(help="run folders (rig certify --out)", show_default=False)],
    history: Annotated[str, typer.Option("--history", help="a SQLite file or postgresql://USER@HOST/DB")
                       ] = "results/history.sqlite",
    log_level: LogLevelOpt = LogLevel.INFO,
) -> None:
    """Record existing run folders; a run already recorded is left as it is (idempotent)."""
    from bwclab.history.record import HistoryError, read_run
    from bwclab.history.store import History

    try:
        records = [read_run(r) for r in runs]  # every folder checked before anything is written
        with History(history) as h:
            for folder, rec in zip(runs, records, strict=True):
                rid, new = h.record(rec)
                out_console.print(f"{folder}: run {rid} {'recorded' if new else 'already recorded'}")
    except HistoryError as err:
        history_fail(err)


@history_app.command("list")
def history_list(history: HistoryUrlOpt = "results/history.sqlite",
                 log_level: LogLevelOpt = LogLevel.INFO) -> None:
    """Every recorded run: number, start, verdict, firmware per camera, tags."""
    from rich.table import Table

    from bwclab.history.record import HistoryError
    from bwclab.history.store import History

    try:
        with History(history, create=False) as h:
            runs, tags, accepted = h.runs(), h.tags(), h.acceptances()
    except HistoryError as err:
        history_fail(err)
    t = Table(title=f"history: {len(runs)} runs")
    for col in ("run", "started", "spec", "verdict", "firmware", "overdue", "tags", "accepted"):
        t.add_column(col)
    for r in runs:
        a = accepted.get(r.id or 0)
        t.add_row(str(r.id), r.started, r.spec, r.verdict, ", ".join(f"{c.serial} {c.firmware}" for c in r.cameras),
                  ", ".join(r.overdue), ", ".join(tags.get(r.id or 0, [])),
                  "" if a is None else f"{a.by} {a.at}: {a.reason}")
    out_console.print(t)


@history_app.command("tag")
def history_tag(
    run: Annotated[str, typer.Argument(help="run number, run id or tag")],
    tag: Annotated[str, typer.Argument(help="the tag, e.g. golden")],
    history: HistoryUrlOpt = "results/history.sqlite",
    log_level: LogLevelOpt = LogLevel.INFO,
) -> None:
    """Tag a run (e.g. golden) so that a comparison can name it as its baseline."""
    import re

    from bwclab.history.record import HistoryError
    from bwclab.history.store import History

    if not re.fullmatch(r"[A-Za-z][\w.-]{0,63}", tag) or tag.startswith("last:"):
        history_fail(HistoryError(f"tag {tag!r}: letters, digits, _ . -, starting with a letter"))
    try:
        with History(history, create=False) as h:
            rid = h.tag(run, tag)
    except HistoryError as err:
        history_fail(err)
    out_console.print(f"run {rid} tagged {tag}")


@history_app.command("accept")
def history_accept(
    run: Annotated[str, typer.Argument(help="run number, run id or tag of the night whose change is intended")],
    reason: Annotated[str, typer.Option("--reason", help="why the change is accepted (shown on the trend page)")],
    history: HistoryUrlOpt = "results/history.sqlite",
    operator: OperatorOpt = None,
    log_level: LogLevelOpt = LogLevel.INFO,
) -> None:
    """Accept a night's drift (e.g. a firmware that is slower by design): recorded with who and when, it lets
    the night join later last:N baselines, from which a regressed night stays out until accepted."""
    import getpass

    from bwclab.history.record import HistoryError
    from bwclab.history.store import History

    try:
        with History(history, create=False) as h:
            rid = h.accept(run, operator or getpass.getuser(), reason)
    except HistoryError as err:
        history_fail(err)
    out_console.print(f"run {rid} accepted: it may join later baselines")


@history_app.command("compare")
def history_compare(
    run: Annotated[str, typer.Option("--run", help="run number, run id or tag")],
    baseline: BaselineOpt = "last:5",
    history: HistoryUrlOpt = "results/history.sqlite",
    alpha: AlphaOpt = 0.05,
    log_level: LogLevelOpt = LogLevel.INFO,
) -> None:
    """A run against a baseline, per camera and requirement: same, better or regressed, with the effect and
    its 95% CI (Holm-corrected over the run). Exit 1 when anything regressed."""
    from rich.table import Table

    from bwclab.commands.nightly import compare_run
    from bwclab.history.record import HistoryError
    from bwclab.history.store import History

    try:
        with History(history, create=False) as h:
            judged = compare_run(h, run, baseline, alpha)
    except HistoryError as err:
        history_fail(err)
    cur, base = judged.run, judged.baseline
    if not base:
        history_fail(HistoryError(f"--baseline {baseline}: no run to compare run {cur.id} with"))
    t = Table(title=f"run {cur.id} against {', '.join(str(b.id) for b in base)}, at a false-alarm rate of {alpha:g}")
    for col in ("requirement", "camera", "drift", "effect [95% CI]", "p (Holm)", "between nights", "note"):
        t.add_column(col)
    for d in judged.drifts:
        eff = "" if d.effect is None else f"{d.effect:+.4g} [{d.ci_low:+.4g}, {d.ci_high:+.4g}] {d.units}"
        colour = {"regressed": "red", "better": "green"}.get(d.verdict, "white")
        t.add_row(d.requirement, d.camera, f"[{colour}]{d.verdict}[/{colour}]", eff,
                  "" if d.p_adjusted is None else f"{d.p_adjusted:.3g}", d.between_nights, d.note)
    out_console.print(t)
    raise typer.Exit(1 if judged.regressed else 0)


@history_app.command("report")
def history_report(
    out: Annotated[Path, typer.Option("--out", help="the page to write")] = Path("results/trends.html"),
    baseline: BaselineOpt = "last:5",
    history: HistoryUrlOpt = "results/history.sqlite",
    alpha: AlphaOpt = 0.05,
    log_level: LogLevelOpt = LogLevel.INFO,
) -> None:
    """trends.html: every requirement on every camera over time, the last run against its baseline, and
    the bench's health; one self-contained page."""
    from bwclab.commands.nightly import write_trends
    from bwclab.history.record import HistoryError
    from bwclab.history.store import History

    try:
        with History(history, create=False) as h:
            path = write_trends(h, out, baseline, alpha=alpha)
    except HistoryError as err:
        history_fail(err)
    out_console.print(f"trends: {path}")


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option("--out", help="where the demo writes its runs")] = Path("results/demo"),
    bench: BenchOpt = "demo",
    requirements: Annotated[str, typer.Option("--requirements", help="spec YAML or built-in name: demo "
                                              "(fast), quick, default")] = "demo",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace the demo a previous run wrote in --out, "
                                            "instead of refusing it")] = False,
    log_level: LogLevelOpt = LogLevel.INFO,
) -> None:
    """Certify the emulated demo bench into OUT/certify, then run the Hartford patrol shift with CAM001's
    measured profile into OUT/hartford-patrol-shift. An OUT a previous demo wrote is refused unless --overwrite."""
    from bwclab.commands.demo import run_demo

    try:
        rc, _ = run_demo(out, bench, requirements, progress_bar, show_summary, show_certificate, overwrite)
    except ConfigError as err:
        fail(err)
    raise typer.Exit(rc)


def show_certificate(cert: Any, out: Path) -> None:
    """The certificate as a table (a column per camera), then its verdict and what failed (`show_outcome`)."""
    from rich.table import Table

    from bwclab.commands.verdict import show_outcome

    if cert is None:
        show_outcome(out_console, None, out)
        return
    t = Table(title=f"certification: {cert.bench} / {cert.spec}: {cert.verdict.upper()}")
    t.add_column("requirement")
    t.add_column("limit")
    for c in cert.cameras:
        t.add_column(c, justify="right")
    rows: dict[str, dict[str, Any]] = {}
    for r in cert.results:
        rows.setdefault(r.requirement, {})[r.camera] = r
    for req, by_cam in rows.items():
        first = next(iter(by_cam.values()))
        limit = " ".join(f"{'<=' if k == 'max' else '>='} {v:g}" for k, v in first.limit.items())
        cells = []
        for c in cert.cameras:
            r = by_cam.get(c)
            if r is None:
                cells.append("")
                continue
            value = r.judged_value
            shown = f"{value:.3g}" if isinstance(value, float | int) else str(value or "-")
            colour = {"pass": "green", "fail": "red"}.get(r.verdict, "yellow")
            cells.append(f"[{colour}]{shown} {r.verdict}[/{colour}]")
        t.add_row(req, f"{limit} {first.units}".strip(), *cells)
    out_console.print(t)
    out_console.print(f"{cert.trials} trials, {cert.errored_attempts} errored")
    show_outcome(out_console, cert, out)


def show_summary(summary: dict[str, Any], out: Path) -> None:
    from rich.table import Table

    reps = summary["reps"]
    name = summary["scenario"] + (f" / {summary['variant']}" if summary["variant"] else "")
    t = Table(title=f"{name} (seed {summary['seed']}, {reps} replications: mean [95% CI])", show_header=False)
    t.add_column("figure")
    t.add_column("value", justify="right")
    fig = summary["figures"]
    device = summary.get("device")
    if device:
        from bwclab.sim.runfolder import device_name

        t.add_row("device modelled (measured profile)", device_name(device)
                  + (f", {device['grade']} grade" if device.get("grade") else ""))

    def pct(x: dict[str, Any]) -> str:
        if x["mean"] is None:
            return "n/a"
        return f"{x['mean']:.1%}" + ("" if x["ci_low"] is None else f" [{x['ci_low']:.1%}, {x['ci_high']:.1%}]")

    def num(x: dict[str, Any], fmt: str = ".1f") -> str:
        if x["mean"] is None:
            return "n/a"
        return format(x["mean"], fmt) + ("" if x["ci_low"] is None else
                                         f" [{x['ci_low']:{fmt}}, {x['ci_high']:{fmt}}]")

    t.add_row("incidents with a critical moment, first replication", str(summary["first_rep"]["incidents"]))
    t.add_row("captured: every officer on scene recording", pct(fig["capture_rate"]))
    t.add_row("captured: every officer recording, subject in frame", pct(fig["in_frame_rate"]))
    t.add_row("captured by at least one camera, dash included", pct(fig["any_camera_rate"]))
    t.add_row("audio capture rate", pct(fig["audio_capture_rate"]))
    force = fig["use_of_force_capture_rate"]
    t.add_row("captured at a use of force", pct(force) + ("" if force["n"] == reps else
                                                           f" ({force['n']} of {reps} replications had one)"))
    spread = summary["officer_spread"]
    t.add_row(f"capture share per officer present at a moment, p10 / median / p90 "
              f"({spread['officers']['mean']:.1f} officers a shift)",
              " / ".join(pct(spread[k]) for k in ("p10", "median", "p90")))
    t.add_row("officer on-scene time on video", pct(fig["officer_time_coverage"]))
    for cause, x in summary["missed"].items():
        if x["mean"]:
            t.add_row(f"  missed a shift: {cause}", num(x))
    t.add_row("bystander activations a shift", num(fig["bystander_activations"]))
    t.add_row("storage, TB a year / held at retention", f"{num(fig['storage_tb_per_year'], '.2f')} / "
              f"{num(fig['storage_tb_held'], '.2f')}")
    lat = summary["first_rep"]["latency_s"]
    if lat["p50"] is not None:
        t.add_row("activation latency p50 / p95 / max (first rep)",
                  f"{lat['p50']:.2f} / {lat['p95']:.2f} / {lat['max']:.2f} s")
    t.add_row("SimPy events, first replication", f"{summary['events']:,}")
    t.add_row(f"wall time, {reps} replication{'s' if reps != 1 else ''}", f"{summary['wall_s']:.2f} s")
    out_console.print(t)
    out_console.print(f"run folder: {out}")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)
