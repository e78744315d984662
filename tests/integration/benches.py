"""A real bench file (no `emulate:`) whose devices are a running emulator's: the rig then knows nothing of an
emulator (no resources.json, no pid), as on a lab's bench."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.integration.harness import Emulator


def real_bench(emu: Emulator, emulated: Path, path: Path, attenuator: str | None = None) -> Path:
    """`emulated` (the bench file the emulator runs) as a lab would write it for the emulator's ports; `attenuator`:
    another VISA resource for the attenuator."""
    data = yaml.safe_load(emulated.read_text())
    data["emitters"] = {n: e | {"broadcast_s": data["emulate"]["emitters"]["broadcast_s"]}
                        for n, e in data["emitters"].items()}
    del data["emulate"]
    res = emu.resources
    for name, adapter in data["gpio"].items():
        adapter["port"] = res["gpio"][name]["port"]
    for serial, cam in data["cameras"].items():
        cam["console"] = res["cameras"][serial]["console"]
        cam["dock"] = res["cameras"][serial]["dock"]
    for name in ("scope", "psu"):
        if data["instruments"].get(name) is not None:
            data["instruments"][name]["resource"] = res["instruments"][name]["resource"]
    data["instruments"]["attenuator"] = (data["instruments"].get("attenuator") or {}) | {
        "resource": attenuator or res["instruments"]["attenuator"]["resource"]}
    path.write_text(yaml.safe_dump(data))
    return path
