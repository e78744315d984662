"""Every command of every protocol, over the real transports, against the emulator in its own process."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from bwclab.core.resources import Resources
from tests.integration.harness import Emulator, dialogue, scpi


def test_resources_json_has_the_documented_shape(emu: Emulator) -> None:
    r = emu.resources
    assert set(r) == {"format", "pid", "session", "gpio", "instruments", "cameras", "truth_log"}
    assert r["format"] == 1 and r["pid"] == emu.proc.pid and len(r["session"]) == 12
    assert Resources.model_validate(r).alive()  # the one schema the rig reads it with
    assert set(r["gpio"]) == {"numato0"} and Path(r["gpio"]["numato0"]["port"]).exists()
    assert set(r["instruments"]) == {"attenuator", "scope", "psu"}
    for inst in r["instruments"].values():
        assert inst["host"] == "127.0.0.1"
        assert inst["resource"] == f"TCPIP::127.0.0.1::{inst['port']}::SOCKET"
    assert set(r["cameras"]) == {"CAM001", "CAM002", "CAM003"}
    for serial_no, cam in r["cameras"].items():
        assert Path(cam["console"]).exists()
        assert cam["dock"] == str(emu.state / "dock" / serial_no) and Path(cam["dock"]).is_dir()
    assert r["truth_log"] == str(emu.state / "truth.jsonl")


def test_instruments_listen_on_loopback_only(emu: Emulator) -> None:
    port = emu.resources["instruments"]["attenuator"]["port"]
    addrs = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1"}
    for addr in addrs:
        with socket.socket() as s, pytest.raises(OSError):
            s.settimeout(0.5)
            s.connect((addr, port))


def test_numato_echo_prompt_and_every_command(emu: Emulator) -> None:
    g = emu.gpio()
    try:
        assert g.raw(b"ver\r") == b"ver\r\n00000009\n\r>"
        assert g.cmd("id get") == "00000001"
        assert g.raw(b"id set ABCD1234\r") == b"id set ABCD1234\r\n>"
        dialogue(g.cmd, [
            ("id get", "ABCD1234"), ("gpio iomask ffffffff", ""), ("gpio iodir FFFFFFF8", ""),
            ("gpio readall", "00000000"),
            ("gpio set 3", ""), ("gpio read 4", "1"),  # the loopback output, seen on its input
            ("gpio readall", "00000018"), ("gpio clear 3", ""), ("gpio read 4", "0"),
            ("gpio iomask 00000008", ""), ("gpio writeall 00000008", ""), ("gpio read 4", "1"),
            ("gpio writeall 00000000", ""), ("gpio iomask FFFFFFFF", ""),
            ("gpio notify get", "gpio notify disabled"), ("gpio notify on", "gpio notify enabled")])
        g.cmd("gpio set 3")
        notes = g.notifications(0.3)
        assert [n for _, n in notes] == ["# 00000018 00000008 FFFFFFF0"]  # pin 3 became an output on set
        g.cmd("gpio clear 3")
        assert g.cmd("gpio notify off") == "gpio notify disabled"
        assert g.cmd("gpio read V") == "0"  # pin 31 on a 32-pin module
    finally:
        g.close()


def test_numato_survives_unknown_commands_long_lines_and_garbage(emu: Emulator) -> None:
    g = emu.gpio()
    try:
        assert g.raw(b"bogus\r") == b"bogus\r\n>"
        assert g.raw(b"gpio read W\r") == b"gpio read W\r\n>"  # no pin W on 32 pins
        out = g.raw(b"x" * 4096 + b"\r")
        assert out.endswith(b"\r\n>") and len(out) < 200
        g.raw(bytes(range(256)) * 4 + b"\r")
        for _ in range(20):
            g.ser.close()
            g.ser.open()
        time.sleep(0.3)  # the echo of the garbage may still be on its way
        g.ser.reset_input_buffer()
        assert g.cmd("ver") == "00000009"
    finally:
        g.close()


def test_attenuator_commands_and_refusals(emu: Emulator) -> None:
    att = emu.instrument("attenuator")
    assert att.query("MN?") == "MN=RC4DAT-6G-95"
    assert att.query("SN?").startswith("SN=")
    assert att.query("SETATT=10") == "1"
    assert att.query("ATT?") == "10 10 10 10"
    assert att.query("CHAN:2:SETATT:31.3") == "1"
    assert att.query("CHAN:2:ATT?") == "31.25"  # rounded to the 0.25 dB step
    assert att.query("CHAN:3:SETATT:120") == "2"  # above range: set to the maximum
    assert att.query("CHAN:3:ATT?") == "95"
    assert att.query("CHAN:1:SETATT:-3") == "0"
    assert att.query("CHAN:9:SETATT:3") == "0"
    assert att.query("CHAN:1:ATT?") == "10"
    assert att.query("HELLO") == "0"
    assert att.query("A" * 4096) == "0"
    assert att.query("SETATT=0") == "1"
    truth = emu.truth("attenuation", channel=2)
    assert truth[-2]["db"] == 31.25


def test_instruments_survive_garbage_and_rapid_reconnects(emu: Emulator) -> None:
    port = emu.resources["instruments"]["scope"]["port"]
    for i in range(50):
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            if i % 5 == 0:
                s.sendall(bytes(range(256)) * 16 + b"\n")
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"\xff\xfe\x00garbage\n" + b"Z" * 5000 + b"\n*IDN?\n")
        data = b""
        while not data.endswith(b"\n"):
            data += s.recv(4096)
    assert data.startswith(b"KEYSIGHT")
    scope = emu.instrument("scope")
    errors = [scope.query(":SYSTem:ERRor?") for _ in range(31)]  # the queue holds 30
    assert '-101,"Invalid character"' in errors and errors[-1] == '+0,"No error"'


def test_scope_settings_and_errors(emu: Emulator) -> None:
    s = emu.instrument("scope")
    assert s.query("*IDN?").startswith("KEYSIGHT TECHNOLOGIES,")
    s.write("*RST")
    assert s.query("*OPC?") == "1"
    dialogue(scpi(s), [
        (":TRIGger:EDGE:SOURce CHANnel3", ""), (":TRIG:EDGE:SOUR?", "CHAN3"),
        (":trig:edge:slop neg", ""), (":TRIGger:EDGE:SLOPe?", "NEG"),
        (":TIMebase:RANGe 2", ""), (":TIM:RANG?", "+2.000000000E+00"),
        (":MEASure:DEFine DELay,+1,-2", ""), (":MEAS:DEF? DEL", "+1,-2"),
        (":NOT:A:COMMAND", ""), (":TRIG:EDGE:SOUR CHAN9", ""), (":TIM:RANG 9999", ""),
        (":SYST:ERR?", '-113,"Undefined header"'), (":SYST:ERR?", '-224,"Illegal parameter value"'),
        (":SYST:ERR?", '-222,"Data out of range"'), (":SYST:ERR?", '+0,"No error"'),
        (":MEAS:DEL? CHAN1,CHAN2", "9.9E+37")])  # nothing acquired since *RST
    s.write(":TIMebase:REFerence LEFT;:RUN")
    assert s.query(":OPERegister:CONDition?") == "+8"
    s.write(":STOP")
    assert s.query(":OPER:COND?") == "+0"
    s.write(":TIM:REF SIDEWAYS")
    s.write("*CLS")
    assert s.query(":SYST:ERR?") == '+0,"No error"'
    s.write("*RST")


def test_psu_commands_and_power_cut_of_an_idle_camera(emu: Emulator) -> None:
    p = emu.instrument("psu")
    assert p.query("*IDN?").startswith("Keysight Technologies,E36313A,")
    p.write("INSTrument:NSELect 3")
    assert p.query("INST:NSEL?") == "3"
    p.write("INST CH2")
    assert p.query("INST?") == "CH2"
    assert float(p.query("VOLT?")) == 5.0
    p.write("CURRent 0.8")
    assert float(p.query("CURR?")) == pytest.approx(0.8)
    assert p.query("OUTPut? (@1:3)") == "1,1,1"
    volts = [float(v) for v in p.query("MEASure:VOLTage? (@1:3)").split(",")]
    amps = [float(v) for v in p.query("MEAS:CURR? (@1:3)").split(",")]
    assert volts == [5.0, 5.0, 5.0] and all(0.3 < a < 0.6 for a in amps)
    con = emu.console("CAM003")
    try:
        p.write("OUTPut OFF,(@3)")
        assert emu.wait_truth("power", channel=3, on=0)
        assert float(p.query("MEAS:VOLT? (@3)")) == 0.0
        con.ser.write(b"IDN?\n")
        assert con.ser.readline() == b""  # no power, no answer
        p.write("OUTP ON,(@3)")
        assert con.wait_event("BOOT")
        assert con.cmd("STATE?") == "OK BUFFERING"
        p.write("VOLT 99")
        assert p.query("SYST:ERR?") == '-222,"Data out of range"'
    finally:
        con.close()


def test_console_every_command(emu: Emulator) -> None:
    c = emu.console("CAM002")
    try:
        assert c.cmd("IDN?") == "OK model=BWC-EMU-1 serial=CAM002 firmware=1.0.0"
        assert c.cmd("state?") == "OK BUFFERING"
        t0 = time.time_ns()
        clock = int(c.cmd("CLOCK?").split()[1])
        assert abs(clock - t0) < 2e9  # the emulated RTC starts on host wall time
        assert c.cmd("CONFIG?") == "OK buffer_s=3 audio_in_buffer=0 allow=HS-0002,LB-0001,TZ-0003"
        assert c.cmd("CONFIG buffer_s=2.5 audio_in_buffer=1 allow=LB-0001") == "OK"
        assert c.cmd("CONFIG?") == "OK buffer_s=2.5 audio_in_buffer=1 allow=LB-0001"
        assert c.cmd("CONFIG buffer_s=500").startswith("ERR 400")
        assert c.cmd("CONFIG colour=red").startswith("ERR 400")
        assert c.cmd("CONFIG buffer_s=3 audio_in_buffer=0 allow=*") == "OK"
        assert c.cmd("CONFIG?").endswith("allow=*")
        assert c.cmd("STOP") == "ERR 409 not recording"
        assert c.cmd("START") == "OK"
        assert c.wait_event("STATE RECORDING cause=manual source=console")
        assert c.cmd("START") == "ERR 409 already recording"
        assert c.cmd("STATE?") == "OK RECORDING"
        reply = c.cmd("STOP")
        assert reply.startswith("OK clip=CAM002-")
        clip = reply.split("=")[1]
        assert c.wait_event(f"CLIP {clip}")
        _count, ids = c.cmd("CLIPS?").split()[1:3]
        assert clip in ids.split(",")
        meta = dict(kv.split("=", 1) for kv in c.cmd(f"CLIP? {clip}").split()[1:])
        assert meta["clip_id"] == clip and meta["cause"] == "manual" and meta["power_cut"] == "0"
        dialogue(c.cmd, [
            ("CLIP? NOPE-0001", "ERR 404 no such clip"), ("SLEEP", "OK"), ("STATE?", "OK SLEEP"), ("WAKE", "OK"),
            ("STATE?", "OK BUFFERING"), ("EVENTS OFF", "OK"), ("EVENTS ON", "OK"),
            ("FLY", "ERR 400 unknown command"), ("X" * 5000, "ERR 400 line too long"),
            ("@17 STATE?", "@17 OK BUFFERING"), ("@123456789 IDN?", "@123456789 OK model=BWC-EMU-1 serial=CAM002 "
                                                                  "firmware=1.0.0"),
            ("@1234567890 STATE?", "ERR 400 bad tag"), ("@x STATE?", "ERR 400 bad tag"), ("@5", "ERR 400 bad tag"),
            ("@9 FLY", "@9 ERR 400 unknown command")])
        garbage = bytes(b for b in range(1, 256) if b not in (10, 13))
        assert c.cmd(garbage.decode("latin-1")) == "ERR 400 unknown command"
        assert c.cmd("STATE?") == "OK BUFFERING"
    finally:
        c.close()
