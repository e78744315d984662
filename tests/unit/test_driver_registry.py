"""Drivers found by name: each role's `driver:` in a bench file is looked up in the `bwclab.drivers` entry points
and refused at load, naming the file and the field and the drivers that would do, when it cannot fill the role."""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
import yaml

from bwclab.bench import drivers
from bwclab.bench.description import load_bench
from bwclab.core.config import ConfigError
from bwclab.rig import interfaces
from bwclab.rig.interfaces import PathLossSetter

ROOT = Path(__file__).resolve().parents[2]
BUILT_IN = {"numato": "gpio", "gpiod": "gpio", "rcdat": "attenuator", "infiniivision": "scope", "e36300": "psu",
            "console": "console"}


def bench_with(tmp_path: Path, where: tuple[str, ...], driver: str) -> Path:
    """fixtures/demo.yaml with one role's `driver:` set (`where`: the path of keys to its mapping)."""
    data = yaml.safe_load((ROOT / "fixtures" / "demo.yaml").read_text())
    node = data
    for key in where:
        node = node.setdefault(key, {})
    node["driver"] = driver
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def refusal(path: Path) -> str:
    with pytest.raises(ConfigError) as err:
        load_bench(path)
    assert err.value.path == str(path)
    return err.value.render()


class NotOpenable:
    provides = (PathLossSetter,)

    def __init__(self, resource: str) -> None:  # no step_db: cannot be opened as an attenuator is
        self.resource = resource


class Attenuates:
    provides = (PathLossSetter,)

    def __init__(self, resource: str, step_db: float = 0.5) -> None:
        self.resource = resource


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[EntryPoint, ...]]:
    """The installed names, plus what a test adds."""
    names = dict(drivers.installed())
    monkeypatch.setattr(drivers, "installed", lambda: names)
    return names


def entry(name: str, value: str) -> tuple[EntryPoint, ...]:
    return (EntryPoint(name=name, value=value, group=drivers.GROUP),)


def test_a_bench_file_without_driver_names_gets_the_built_in_drivers() -> None:
    bench = load_bench(ROOT / "fixtures" / "demo.yaml")
    inst = bench.instruments
    assert inst.attenuator.driver == "rcdat" and inst.scope is not None and inst.scope.driver == "infiniivision"
    assert inst.psu is not None and inst.psu.driver == "e36300"
    assert bench.gpio["numato0"].driver == "numato" and bench.cameras["CAM001"].driver == "console"


def test_the_gpio_adapters_spelling_of_today_still_chooses_gpiod(tmp_path: Path) -> None:
    bench = load_bench(bench_with(tmp_path, ("gpio", "numato0"), "gpiod"))
    assert bench.gpio["numato0"].driver == "gpiod"


@pytest.mark.parametrize(("where", "field", "known"), [
    (("instruments", "attenuator"), "instruments.attenuator.driver", "rcdat"),
    (("instruments", "scope"), "instruments.scope.driver", "infiniivision"),
    (("instruments", "psu"), "instruments.psu.driver", "e36300"),
    (("gpio", "numato0"), "gpio.numato0.driver", "gpiod, numato"),
    (("cameras", "CAM002"), "cameras.CAM002.driver", "console"),
])
def test_an_unknown_name_is_refused_naming_the_field_and_the_drivers_for_the_role(
        tmp_path: Path, where: tuple[str, ...], field: str, known: str) -> None:
    text = refusal(bench_with(tmp_path, where, "labthing"))
    assert f"{field}: Value error, no driver named 'labthing' is installed" in text
    assert text.rstrip().endswith(f": {known} (got 'labthing')")


def test_a_driver_named_for_a_role_whose_interface_it_lacks_is_refused(tmp_path: Path) -> None:
    text = refusal(bench_with(tmp_path, ("instruments", "scope"), "rcdat"))
    assert "instruments.scope.driver: Value error, driver 'rcdat' does not provide DelayMeter, which a scope " \
           "needs (it declares provides = (Identified, PathLossSetter)); drivers for a scope: infiniivision" in text


def test_a_driver_that_cannot_be_opened_as_its_role_is_refused(
        tmp_path: Path, registered: dict[str, tuple[EntryPoint, ...]]) -> None:
    registered["labatt"] = entry("labatt", f"{__name__}:NotOpenable")
    text = refusal(bench_with(tmp_path, ("instruments", "attenuator"), "labatt"))
    assert "driver 'labatt' cannot be opened as an attenuator is, cls(resource, step_db=...) (got an unexpected " \
           "keyword argument 'step_db')" in text


def test_a_lab_driver_registered_by_name_is_found_and_listed(
        tmp_path: Path, registered: dict[str, tuple[EntryPoint, ...]]) -> None:
    registered["labatt"] = entry("labatt", f"{__name__}:Attenuates")
    assert load_bench(bench_with(tmp_path, ("instruments", "attenuator"), "labatt")).instruments.attenuator.driver \
        == "labatt"
    assert drivers.driver_class("attenuator", "labatt") is Attenuates
    assert drivers.fitting("attenuator") == ["labatt", "rcdat"]


def test_a_driver_whose_module_does_not_import_is_refused_with_the_reason(
        tmp_path: Path, registered: dict[str, tuple[EntryPoint, ...]]) -> None:
    registered["broken"] = entry("broken", "no_such_lab_module_xyz:Driver")
    text = refusal(bench_with(tmp_path, ("instruments", "psu"), "broken"))
    assert "driver 'broken' (no_such_lab_module_xyz:Driver) cannot be imported (ModuleNotFoundError: No module " \
           "named 'no_such_lab_module_xyz')" in text


def test_a_name_two_distributions_register_is_refused(
        tmp_path: Path, registered: dict[str, tuple[EntryPoint, ...]]) -> None:
    registered["rcdat"] = (*registered["rcdat"], *entry("rcdat", f"{__name__}:Attenuates"))
    text = refusal(bench_with(tmp_path, ("instruments", "attenuator"), "rcdat"))
    assert "driver 'rcdat' is registered twice (bwclab.rig.drivers.rcdat:RcdatAttenuator from bwclab; " \
           f"{__name__}:Attenuates): uninstall one of them" in text


def test_an_entry_point_that_is_not_a_class_is_refused(registered: dict[str, tuple[EntryPoint, ...]]) -> None:
    registered["fn"] = entry("fn", "os.path:join")
    with pytest.raises(ValueError, match="driver 'fn' is function, not a class"):
        drivers.driver_class("psu", "fn")


def test_each_roles_interfaces_are_bwclabs_and_each_built_in_is_registered_and_fills_its_role() -> None:
    for needs in drivers.ROLES.values():
        for interface in needs.interfaces:
            assert isinstance(getattr(interfaces, interface), type)  # the names the bench layer checks exist
    assert {n: ep[0].value.split(":")[0] for n, ep in drivers.installed().items() if n in BUILT_IN} == {
        n: f"bwclab.rig.drivers.{'gpiod_lines' if n == 'gpiod' else n}" for n in BUILT_IN}
    for name, role in BUILT_IN.items():
        assert drivers.driver_class(role, name).driver_name == name


def test_each_built_in_has_every_method_of_the_interfaces_it_declares() -> None:
    for name, role in BUILT_IN.items():
        cls = drivers.driver_class(role, name)
        for proto in cls.provides:
            methods = [m for m, v in vars(proto).items() if not m.startswith("_") and
                       (inspect.isfunction(v) or isinstance(v, property))]
            assert methods, proto
            for m in methods:
                assert callable(getattr(cls, m, None)) or isinstance(getattr(cls, m, None), property), (cls, m)
    assert importlib.import_module(drivers.INTERFACES) is interfaces
