"""The vehicle trigger kinds are in the one vocabulary: a bench wires an emitter of kind `door` (or siren, speed,
crash) as it wires a light bar; a word outside the vocabulary is still refused, naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bwclab.bench.description import load_bench
from bwclab.core.config import ConfigError
from bwclab.sim.scenario import scenario_from_dict
from tests.conftest import SCRIPTED_BASE, deep_merge

ROOT = Path(__file__).resolve().parents[2]


def bench_with_emitter_kind(tmp_path: Path, kind: str) -> Path:
    data = yaml.safe_load((ROOT / "fixtures" / "demo.yaml").read_text())
    data["emitters"]["light_bar"]["kind"] = kind
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("kind", ["door", "siren", "speed", "crash"])
def test_a_bench_wires_an_emitter_of_each_vehicle_kind(tmp_path: Path, kind: str) -> None:
    assert kind in load_bench(bench_with_emitter_kind(tmp_path, kind)).kinds()


def test_a_bench_emitter_of_an_unknown_kind_is_refused_naming_its_field(tmp_path: Path) -> None:
    path = bench_with_emitter_kind(tmp_path, "trunk")
    with pytest.raises(ConfigError) as err:
        load_bench(path)
    assert "emitters.light_bar.kind" in err.value.render()


def test_a_scenario_fields_the_vehicle_kinds_and_refuses_an_unknown_one() -> None:
    sc = scenario_from_dict(deep_merge(SCRIPTED_BASE, {"signal": {"triggers": ["door", "siren", "speed", "crash"]}}))
    assert sc.signal.triggers == ["door", "siren", "speed", "crash"]
    with pytest.raises(ConfigError) as err:
        scenario_from_dict(deep_merge(SCRIPTED_BASE, {"signal": {"triggers": ["trunk"]}}))
    assert "signal.triggers.0" in err.value.render()
