"""Bad bench and fault files are refused with file, field and reason; a stop is clean and quick."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.harness import QUICK, ROOT, Emulator, write_yaml


def emulate(tmp: Path, bench: Path, faults: Path | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "bwclab", "bench", "emulate", "--bench", str(bench), "--state-dir", str(tmp / "s")]
    if faults:
        cmd += ["--faults", str(faults)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60)


@pytest.mark.parametrize(("change", "field", "reason"), [
    (("ports: 32}", "ports: 33}"), "gpio.numato0.ports", "Input should be"),
    (("attenuator_channel: 2,", "attenuator_channel: 1,"), "attenuator_channel", "already belongs to CAM001"),
    (('line: "numato0:1"', 'line: "numato0:99"'), "emitters.holster.line", "beyond numato0's 32 pins"),
    (("buffer_s: 3\n", "buffer_s: lots\n"), "emulate.camera.buffer_s", "valid number"),
    (("scan_window_ms: 100", "scan_window_ms: 500"), "emulate.camera", "scan_window_ms must be at most"),
    (("seed: 7", "sede: 7"), "emulate.sede", "unknown field"),
])
def test_a_bad_bench_file_is_refused_with_file_field_and_reason(tmp_path, change, field, reason) -> None:
    bad = write_yaml(tmp_path / "bench.yaml", QUICK.read_text().replace(*change))
    r = emulate(tmp_path, bad)
    assert r.returncode == 2
    assert str(bad) in r.stderr and field in r.stderr and reason in r.stderr
    assert "Traceback" not in r.stderr


def test_a_bench_without_emulate_section_is_refused(tmp_path) -> None:
    text = QUICK.read_text()
    bad = write_yaml(tmp_path / "real.yaml", text[: text.index("emulate:")])
    r = emulate(tmp_path, bad)
    assert r.returncode == 2 and "emulate: missing" in r.stderr


@pytest.mark.parametrize(("text", "expect"), [
    ("CAM001: {extra_latency_ms: -5}", "CAM001.extra_latency_ms"),
    ("CAM001: {extra_latency: 5}", "CAM001.extra_latency: unknown field"),
    ("CAM009: {ignore_signals: true}", "CAM009: no camera with this serial"),
    ("[1, 2]", "expected a mapping of camera serial to faults"),
    ("CAM001: {drop_frames: [", "not valid YAML"),
])
def test_a_bad_faults_file_is_refused(tmp_path, text, expect) -> None:
    faults = write_yaml(tmp_path / "faults.yaml", text)
    r = emulate(tmp_path, QUICK, faults)
    assert r.returncode == 2 and str(faults) in r.stderr and expect in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_sigterm_closes_everything_within_two_seconds(tmp_path) -> None:
    e = Emulator(tmp_path / "s")
    port = e.resources["instruments"]["psu"]["port"]
    console = e.resources["cameras"]["CAM001"]["console"]
    rc, took = e.stop()
    assert rc == 0 and took < 2.0
    assert not (tmp_path / "s" / "resources.json").exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
    assert not Path(console).exists() or not any(
        Path("/proc").glob(f"{e.proc.pid}/fd/*"))
    assert e.truth("stop")
