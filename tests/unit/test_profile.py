"""The device profile: one schema for the rig that writes it and the simulator that reads it, carrying
properties of the device only."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bwclab.core.builtin import builtin, resolve
from bwclab.core.config import ConfigError
from bwclab.core.profile import BufferMeasured, DeviceProfile, dump_profile, load_profile
from bwclab.sim.profile import apply_profile
from bwclab.sim.scenario import load_scenario

EXAMPLE = builtin("profile", "example")


def measured_on_a_3s_bench() -> DeviceProfile:
    return DeviceProfile.model_validate({
        "format": 2, "device": {"serial": "CAM001", "model": "BWC-EMU-1", "firmware": "1.0.0"},
        "latency": {"light_bar": {"samples_s": [0.3, 0.31]}, "taser": {"samples_s": [0.5], "misses": 1}},
        "buffer": {"configured_s": 3.0, "measured_s": [2.94, 2.95, 2.96]},
        "audio": {"configured_in_buffer": False, "found_in_buffer": False}})


def test_a_profile_measured_on_a_3s_bench_leaves_a_30s_department_buffer_at_30s_minus_the_shortfall() -> None:
    hartford = load_scenario(resolve("scenario", "hartford-patrol-shift"))
    assert hartford.camera.buffer_s == 30
    applied = apply_profile(hartford, measured_on_a_3s_bench())
    assert applied.camera.buffer_s == pytest.approx(30 - 0.05)  # configured 3 s, median measured 2.95 s
    assert applied.signal.measured_latency["taser"].misses == 1
    assert set(applied.signal.measured_latency) == {"light_bar", "taser"}  # holster keeps the BLE model


def test_audio_found_in_the_buffer_against_the_setting_is_the_devices_property() -> None:
    sc = load_scenario(resolve("scenario", "hartford-patrol-shift"))
    data = measured_on_a_3s_bench().model_dump()
    data["audio"] = {"configured_in_buffer": False, "found_in_buffer": True}
    prof = DeviceProfile.model_validate(data)
    assert apply_profile(sc, prof).camera.audio_in_buffer is True  # the device buffers audio whatever it is told
    assert apply_profile(sc, measured_on_a_3s_bench()).camera.audio_in_buffer is False


def test_the_shortfall_is_never_negative() -> None:
    assert BufferMeasured(configured_s=3.0, measured_s=[3.1]).shortfall_s == 0.0


def test_a_written_profile_reads_back_equal() -> None:
    prof = load_profile(EXAMPLE)
    assert DeviceProfile.model_validate(yaml.safe_load(dump_profile(prof))) == prof


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: d.pop("format"), "format: missing"),
    (lambda d: d.update(format=3), "format: 3 is not known to this bwclab"),
    (lambda d: d["latency"].update(firearm={"samples_s": [0.4]}), "latency.firearm"),
    (lambda d: d["detection"]["light_bar"].update(b=0.5), "detection.light_bar.b"),
    (lambda d: d["buffer"].update(measured_s=[]), "buffer.measured_s"),
])
def test_an_old_unknown_or_wrong_profile_is_refused_naming_the_field(tmp_path: Path, edit, expected) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    edit(data)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_profile(path)
    assert str(path) in err.value.render() and expected in err.value.render()
