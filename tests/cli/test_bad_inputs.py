"""The bad-input corpus (tests/bad_inputs/): every file refused with exit 2, naming the file and the field,
without a traceback, before any bench starts or run folder is written; what is not a regular file refused
unread; and every command-line option refusing what its files refuse (NaN, infinity, integers past Python's
limit, booleans for numbers)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import pytest
import typer
from typer.testing import CliRunner

from bwclab.bench.description import load_bench
from bwclab.cli import app
from bwclab.core.builtin import builtin
from bwclab.core.config import ConfigError, read_yaml
from bwclab.core.profile import load_profile
from bwclab.emulator.faults import load_faults
from bwclab.rig.requirements import check_against_bench, load_spec
from bwclab.sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "bad_inputs"
CASES = sorted(CORPUS.glob("*/*.yaml"))
DEMO = load_bench(builtin("bench", "demo"))


def expected(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), path
    return first.removeprefix("# expect: ")


def command(kind: str, path: Path, out: Path) -> list[str]:
    return {
        "scenario": ["sim", "shift", "--scenario", str(path), "--out", str(out)],
        "bench": ["rig", "certify", "--bench", str(path), "--requirements", "demo", "--out", str(out)],
        "spec": ["rig", "certify", "--bench", "demo", "--requirements", str(path), "--out", str(out)],
        "faults": ["rig", "certify", "--bench", "demo", "--requirements", "demo", "--faults", str(path), "--out",
                   str(out)],
        "profile": ["sim", "shift", "--scenario", "traffic-stop", "--profile", str(path), "--out", str(out)],
    }[kind]


LOADERS: dict[str, Callable[[Path], Any]] = {
    "scenario": load_scenario,
    "bench": load_bench,
    "spec": lambda p: check_against_bench(load_spec(p), p, DEMO, list(DEMO.cameras)),
    "faults": lambda p: load_faults(p, list(DEMO.cameras)),
    "profile": load_profile,
}


def test_the_corpus_covers_every_file_type_with_at_least_60_files() -> None:
    kinds = {p.parent.name for p in CASES}
    assert kinds == set(LOADERS) and len(CASES) >= 60
    assert all(sum(p.parent.name == k for p in CASES) >= 5 for k in ("scenario", "bench", "spec", "faults"))


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_refused_by_the_command_with_exit_2_naming_file_and_field(tmp_path: Path, path: Path) -> None:
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "bwclab", *command(path.parent.name, path, out)], capture_output=True,
                       text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert str(path) in r.stderr and expected(path) in r.stderr, r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert not (out / "trials.sqlite").exists() and not (out / "summary.json").exists()


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_refused_by_its_loader_with_a_short_message(path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        LOADERS[path.parent.name](path)
    text = err.value.render()
    assert expected(path) in text and all(len(line) < 600 for line in text.splitlines())


def test_a_50_mb_file_is_refused_at_once_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("w") as fh:
        fh.write("name: big\ndescription: >\n")
        line = "  " + "x" * 998 + "\n"
        for _ in range(50_000):
            fh.write(line)
    with pytest.raises(ConfigError, match=f"file is {big.stat().st_size:,} bytes; configuration files are at most "
                       "1,000,000"):  # the size stat() gives: known before a byte is read
        read_yaml(big)


def test_a_long_value_is_quoted_short(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: x\ncamera: {buffer_s: '" + "9" * 100_000 + "'}\n")
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    text = err.value.render()
    assert "camera.buffer_s" in text and "100,002 characters" in text and len(text) < 600


# --- what is not a regular file, and a file that is longer than stat() says --------------------------------------

def limited(max_bytes: int = 2 << 30) -> Callable[[], None]:
    """A child's address space capped: a loader that read /dev/zero to its end fails fast instead of taking
    the machine's memory with it."""
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
    return cap


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "named-pipe.yaml"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_unread(tmp_path: Path, device: str) -> None:
    r = subprocess.run([sys.executable, "-m", "bwclab", "bench", "check", device], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path, preexec_fn=limited())
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{device} is not valid" in r.stderr and "is a character device, expected a YAML file" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path, fifo: Path, kind: str) -> None:
    r = subprocess.run([sys.executable, "-m", "bwclab", *command(kind, fifo, tmp_path / "out")], capture_output=True,
                       text=True, timeout=120, cwd=tmp_path)  # the timeout only stops a hang
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{fifo} is not valid" in r.stderr and "is a named pipe (FIFO), expected a YAML file" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "out").exists()


def test_a_file_is_read_only_up_to_the_limit_whatever_stat_says(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    grown = tmp_path / "grown.yaml"
    grown.write_text("name: grown\ndescription: >\n" + ("  " + "x" * 98 + "\n") * 20_000)  # 2 MB of valid YAML
    real_stat = os.stat

    def small(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:  # as /proc files and growing files say
        st = real_stat(path, *args, **kwargs)
        return os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid, st.st_gid, 100,
                               int(st.st_atime), int(st.st_mtime), int(st.st_ctime)))

    monkeypatch.setattr(os, "stat", small)
    with pytest.raises(ConfigError, match="more than 1,000,000 bytes; configuration files are at most 1,000,000"):
        read_yaml(grown)


# --- command-line options -----------------------------------------------------------------------------------------

def float_options() -> list[tuple[list[str], str]]:
    """(command, option) for every option of every command that takes a float."""
    out = []
    for prefix, group in [([], app)] + [([str(g.name)], g.typer_instance) for g in app.registered_groups]:
        assert group is not None
        for c in group.registered_commands:
            assert c.callback is not None
            name = c.name or c.callback.__name__.replace("_", "-")
            for param, hint in typing.get_type_hints(c.callback, include_extras=True).items():
                if get_origin(hint) is not Annotated:
                    continue
                base, *meta = get_args(hint)
                info = next((m for m in meta if isinstance(m, typer.models.OptionInfo)), None)
                if info is not None and float in (base, *get_args(base)):
                    decl = info.default if isinstance(info.default, str) and info.default.startswith("-") else (
                        "--" + param.replace("_", "-"))
                    out.append(([*prefix, name], decl))
    return out


FLOATS = float_options()


def test_float_options_are_found() -> None:
    assert (["history", "compare"], "--alpha") in FLOATS and (["hil", "run"], "--until") in FLOATS


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "-Infinity", "1e999"])
@pytest.mark.parametrize(("cmd", "option"), FLOATS, ids=[f"{' '.join(c)} {o}" for c, o in FLOATS])
def test_every_float_option_refuses_nan_and_infinity(cmd: list[str], option: str, value: str) -> None:
    r = CliRunner().invoke(app, [*cmd, option, value], env={"COLUMNS": "300"})
    assert r.exit_code == 2, r.output
    assert isinstance(r.exception, SystemExit), r.exception
    assert f"Invalid value for '{option}'" in r.output and "expected a finite number" in r.output, r.output


DIGITS = "9" * 5000
BAD_OPTIONS = {  # arguments after `bwclab`: what the message must say
    "set-integer-past-the-limit": (["sim", "shift", "--scenario", "traffic-stop", "--out", "{out}", "--set",
                                    f"seed={DIGITS}"], "--set seed: an integer of 5,000 digits"),
    "vary-integer-past-the-limit": (["sim", "sweep", "--scenario", "traffic-stop", "--out", "{out}", "--vary",
                                     f"seed=1,{DIGITS}"], "seed: an integer of 5,000 digits"),
    "map-integer-past-the-limit": (["hil", "run", "--scenario", "traffic-stop", "--bench", "emulated", "--out",
                                    "{out}", "--map", f"0=CAM001,{DIGITS}=CAM002"], "--map"),
    "seed-integer-past-the-limit": (["sim", "shift", "--scenario", "traffic-stop", "--out", "{out}", "--seed", DIGITS],
                                    "Invalid value for '--seed'"),
    "set-boolean-for-a-number": (["sim", "shift", "--scenario", "traffic-stop", "--out", "{out}", "--set",
                                  "camera.buffer_s=yes"], "camera.buffer_s: expected a number, not true or false"),
    "set-nan": (["sim", "shift", "--scenario", "traffic-stop", "--out", "{out}", "--set", "signal.broadcast_s=.nan"],
                "signal.broadcast_s: Input should be a finite number"),
    "unknown-built-in-profile": (["sim", "shift", "--scenario", "traffic-stop", "--out", "{out}", "--profile",
                                  "no-such-profile"], "no built-in profile of that name (built-in: emulated, example"),
}


@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_a_bad_option_value_exits_2_naming_the_option(tmp_path: Path, case: str) -> None:
    args, says = BAD_OPTIONS[case]
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "bwclab", *(a.replace("{out}", str(out)) for a in args)],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path, env={**os.environ, "COLUMNS": "300"})
    assert r.returncode == 2, r.stdout + r.stderr[-3000:]
    assert says in r.stderr and "Traceback" not in r.stderr, r.stderr[-3000:]
    assert not (out / "summary.json").exists()
