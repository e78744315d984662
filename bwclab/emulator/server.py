"""Assemble the emulated bench from its description, publish resources.json, run until stopped."""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import signal
import time
import uuid
from pathlib import Path

from bwclab.bench.description import Bench, split_line
from bwclab.core.config import ConfigError
from bwclab.core.resources import CameraPorts, Endpoint, Resources, SerialPort, write_resources
from bwclab.emulator.attenuator import Attenuator
from bwclab.emulator.console import Console
from bwclab.emulator.dock import Renderer
from bwclab.emulator.emitter import Emitter
from bwclab.emulator.faults import CameraFaults, load_faults
from bwclab.emulator.loop import Loop, now_ns
from bwclab.emulator.numato import NumatoAdapter
from bwclab.emulator.psu import PowerSupply
from bwclab.emulator.radio import Listener, Radio
from bwclab.emulator.scope import Oscilloscope
from bwclab.emulator.transport import TcpInstrument
from bwclab.emulator.truth import TruthLog
from bwclab.emulator.unit import CameraUnit, DeviceClock
from bwclab.emulator.wire import Wire


def check_emulatable(bench: Bench, path: Path) -> None:
    problems = []
    if bench.emulate is None:
        problems.append("emulate: missing; this file describes real hardware (add an emulate: section)")
    for name, a in bench.gpio.items():
        if a.driver != "numato":
            problems.append(f"gpio.{name}.driver: only numato adapters can be emulated, got {a.driver!r}")
    if problems:
        raise ConfigError(path, problems)


class EmulatedBench:
    def __init__(self, bench: Bench, state_dir: Path, faults: dict[str, CameraFaults]) -> None:
        assert bench.emulate is not None
        em = bench.emulate
        seed = secrets.randbits(32) if em.seed is None else em.seed  # None: fresh each start, as nights differ
        self.bench, self.state_dir = bench, state_dir
        self.session = uuid.uuid4().hex[:12]
        self.loop = Loop()
        state_dir.mkdir(parents=True, exist_ok=True)
        self.truth = TruthLog(state_dir / "truth.jsonl")
        self.truth.log("start", bench=bench.name, pid=os.getpid(), seed=seed)
        self.wires: dict[str, Wire] = {}
        self.renderer = Renderer(self.loop)

        # emitters and the air between them and the cameras
        channels = max(4, max(ch for serial in bench.cameras for ch in bench.channels(serial).values()))
        self.attenuator = Attenuator(em.attenuator.model, em.attenuator.serial, channels, em.attenuator.max_db,
                                     em.attenuator.step_db, em.attenuator.start_db, self.truth,
                                     lambda ch, db, t: self.radio.retune(ch, t))
        self.radio = Radio(self.loop, seed, em.emitters.tx_power_dbm, bench.path_loss.bench_loss_db,
                           lambda ch: self.attenuator.values[ch], self.truth)
        self.emitters = {}
        for name, e in bench.emitters.items():
            em_ = Emitter(self.loop, name, e.kind, e.id, em.emitters.broadcast_s, em.emitters.light_bar_filter_ms / 1e3,
                          self.truth, self.radio.start, self.radio.end, em.emitters.retrigger == "restart")
            self.wire(e.line).listeners.append(em_.input_changed)
            self.emitters[name] = em_

        # cameras
        epoch = time.time_ns()
        host0 = now_ns()
        self.units: dict[str, CameraUnit] = {}
        self.consoles: dict[str, Console] = {}
        for index, (serial, c) in enumerate(bench.cameras.items()):
            f = faults.get(serial, CameraFaults())
            dock = state_dir / "dock" / serial
            dock.mkdir(parents=True, exist_ok=True)
            indicator = self.wire(c.indicator) if c.indicator else Wire(f"{serial}.indicator", self.truth)
            cfg = em.camera if f.firmware is None else em.camera.model_copy(update={"firmware": f.firmware})
            unit = CameraUnit(self.loop, serial, index, cfg, em.emitters.adv_interval_ms / 1e3, f, self.truth,
                              dock, indicator, self.renderer, seed, DeviceClock(epoch, host0, f.clock_drift_ppm))
            sensitivity = em.camera.sensitivity_dbm + f.sensitivity_offset_db
            lis = Listener(serial, index, bench.channels(serial), sensitivity, em.camera.shadowing_db, unit.ble,
                           unit.discovered, unit.can_hear)
            self.radio.listeners.append(lis)
            unit.on_hearing_changed = functools.partial(self._hearing_changed, serial)
            if c.button:
                self.wire(c.button).listeners.append(unit.press)
            self.units[serial] = unit
            self.consoles[serial] = Console(self.loop, unit, f, self.truth, seed, index)

        # the GPIO adapters: outputs drive emitter inputs, buttons and the loopback; inputs read the rest
        driven_refs = {e.line for e in bench.emitters.values()} | {c.button for c in bench.cameras.values() if c.button}
        if bench.loopback:
            self.wires[bench.loopback[1]] = self.wire(bench.loopback[0])
            driven_refs.add(bench.loopback[0])
        self.adapters: dict[str, NumatoAdapter] = {}
        for name, a in bench.gpio.items():
            pins = {split_line(ref)[1]: w for ref, w in self.wires.items() if split_line(ref)[0] == name}
            driven = {split_line(ref)[1] for ref in driven_refs if split_line(ref)[0] == name}
            self.adapters[name] = NumatoAdapter(self.loop, a.ports, pins, driven, em.adapter_id)

        # instruments
        psu_of = {c.psu_channel: s for s, c in bench.cameras.items() if c.psu_channel}
        self.psu = PowerSupply(self.truth, lambda ch, on, t: self._power(psu_of.get(ch), on, t),
                               lambda ch: self.units[psu_of[ch]].load_amps() if ch in psu_of else 0.0)
        probes: dict[int, Wire] = {}
        scope = bench.instruments.scope
        for ch, probe in (scope.channels.items() if scope else []):
            if probe.line is not None:
                probes[ch] = self.wire(probe.line)
            elif probe.indicator is not None:
                probes[ch] = self.units[probe.indicator].indicator
        self.scope = Oscilloscope(self.loop, probes, self.truth)
        self.servers = {
            name: TcpInstrument(self.loop, handler, end, on_error=functools.partial(self._protocol_error, name))
            for name, handler, end in (("attenuator", lambda: self.attenuator.handle, b"\r\n"),
                                       ("scope", lambda: self.scope.handle, b"\n"),
                                       ("psu", lambda: self.psu.handle, b"\n"))}

    def _protocol_error(self, instrument: str, text: str) -> None:
        self.truth.log("protocol_error", instrument=instrument, error=text)

    def wire(self, ref: str) -> Wire:
        if ref not in self.wires:
            self.wires[ref] = Wire(ref, self.truth)
        return self.wires[ref]

    def _hearing_changed(self, serial: str) -> None:
        self.radio.reevaluate(serial, now_ns())

    def _power(self, serial: str | None, on: bool, t_ns: int) -> None:
        if serial is not None:
            self.units[serial].set_power(on, t_ns)

    def resources(self) -> Resources:
        def inst(s: TcpInstrument) -> Endpoint:
            return Endpoint(host="127.0.0.1", port=s.port, resource=f"TCPIP::127.0.0.1::{s.port}::SOCKET")

        return Resources(
            pid=os.getpid(), session=self.session,
            gpio={name: SerialPort(port=a.pty.name) for name, a in self.adapters.items()},
            instruments={name: inst(s) for name, s in self.servers.items()},
            cameras={s: CameraPorts(console=self.consoles[s].pty.name, dock=str(self.state_dir / "dock" / s))
                     for s in self.units},
            truth_log=str(self.state_dir / "truth.jsonl"))

    def publish(self) -> Path:
        path = self.state_dir / "resources.json"
        write_resources(path, self.resources())
        self.truth.log("ready", resources=str(path))
        return path

    def watch(self, fd: int) -> None:
        """Stop when the parent's end of this pipe closes: the parent died (however it died)."""
        def readable() -> None:
            try:
                data = os.read(fd, 64)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self.truth.log("parent_gone")
                self.loop.remove(fd)
                self.loop.stop()

        os.set_blocking(fd, False)
        self.loop.add_reader(fd, readable)

    def run(self) -> None:
        self.loop.run()

    def shutdown(self) -> None:
        """Stop like a bench switched off: running recordings end as power cuts, clips are flushed."""
        for unit in self.units.values():
            if unit.powered:
                unit.set_power(False, now_ns())
        self.renderer.close(timeout_s=1.2)
        for s in self.servers.values():
            s.close()
        for c in self.consoles.values():
            c.pty.close()
        for a in self.adapters.values():
            a.close()
        self.truth.log("stop")
        self.truth.close()
        with contextlib.suppress(FileNotFoundError):
            (self.state_dir / "resources.json").unlink()


def serve(bench: Bench, bench_path: Path, state_dir: Path, faults_path: Path | None,
          watch_fd: int | None = None) -> None:
    check_emulatable(bench, bench_path)
    faults = load_faults(faults_path, list(bench.cameras)) if faults_path else {}
    eb = EmulatedBench(bench, state_dir, faults)
    if watch_fd is not None:
        eb.watch(watch_fd)

    def stop(signum: int, frame: object) -> None:
        eb.loop.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    eb.publish()
    try:
        eb.run()
    finally:
        eb.shutdown()
