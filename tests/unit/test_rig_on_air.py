"""When the rig may fire an emitter again, and what the bench file says an emitter does with an edge
during its broadcast."""

from __future__ import annotations

from pathlib import Path

import yaml

from bwclab.bench.description import load_bench
from bwclab.rig.on_air import OnAir

ROOT = Path(__file__).resolve().parents[2]
S = 1_000_000_000


def test_an_emitter_that_ignores_an_edge_mid_broadcast_is_left_until_its_broadcast_ends() -> None:
    air = OnAir({"light_bar": 3.0, "taser": 3.0}, {"light_bar": False, "taser": True}, margin_s=0.5)
    assert air.wait_s("light_bar", 10 * S) == 0.0  # never fired
    air.fired("light_bar", 10 * S)
    assert air.wait_s("light_bar", 11 * S) == 2.5  # 3 s broadcast + 0.5 s margin, 1 s gone
    assert air.wait_s("light_bar", 13 * S + S // 2) == 0.0
    assert air.wait_s("light_bar", 20 * S) == 0.0
    air.fired("taser", 10 * S)
    assert air.wait_s("taser", 10 * S + 1) == 0.0  # a restarting emitter may be fired at once


def test_the_bench_file_says_what_an_edge_mid_broadcast_does(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "fixtures" / "emulated.yaml").read_text())
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_bench(path).restarts("light_bar")  # emulated emitters restart unless told otherwise

    data["emulate"]["emitters"]["retrigger"] = "ignore"
    data["emitters"]["taser"]["retrigger"] = "restart"  # the wiring's datasheet figure wins
    path.write_text(yaml.safe_dump(data))
    bench = load_bench(path)
    assert not bench.restarts("light_bar")
    assert bench.restarts("taser")

    del data["emulate"]
    data["emitters"]["taser"].pop("retrigger")
    path.write_text(yaml.safe_dump(data))
    bench = load_bench(path)
    assert bench.emulate is None
    assert not bench.restarts("taser")  # a real emitter nobody described: assume it ignores the edge
