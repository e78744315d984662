"""A Numato Lab USB GPIO module on a pseudo-terminal (docs/protocols/numato-gpio.md)."""

from __future__ import annotations

import functools

from bwclab.emulator.loop import Loop, now_ns
from bwclab.emulator.transport import PtyPort
from bwclab.emulator.wire import Wire

VERSION = "00000009"
MAX_LINE = 64  # the module's command buffer; longer input is dropped up to the next CR
PIN_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUV"


class NumatoAdapter:
    def __init__(self, loop: Loop, ports: int, wires: dict[int, Wire], driven: set[int], adapter_id: str) -> None:
        self.ports = ports
        self.width = max(ports // 4, 2)
        self.full = (1 << ports) - 1
        self.wires = wires  # pin -> wire (pins without a wire float low)
        self.driven = driven  # pins whose wire only this adapter drives (emitter inputs, buttons)
        self.iodir = self.full  # 1 = input, as the module powers up
        self.iomask = self.full
        self.latch = 0
        self.notify = False
        self.id = adapter_id
        self.line = bytearray()
        self.overflow = False
        self.pty = PtyPort(loop, self._data)
        for pin, wire in wires.items():
            wire.listeners.append(functools.partial(self._edge, pin))

    # --- levels -------------------------------------------------------------------------
    def levels(self) -> int:
        value = 0
        for pin in range(self.ports):
            if self.level(pin):
                value |= 1 << pin
        return value

    def level(self, pin: int) -> bool:
        if not self.iodir >> pin & 1:
            return bool(self.latch >> pin & 1)
        wire = self.wires.get(pin)
        return wire.level if wire is not None else False

    def _apply(self, t_ns: int, cause: str) -> None:
        """Drive every wire whose pin is an output; inputs leave their wire to its other driver."""
        for pin in self.driven:
            out = not self.iodir >> pin & 1
            self.wires[pin].drive(out and bool(self.latch >> pin & 1), t_ns, by=cause)  # an input floats low

    def _edge(self, pin: int, level: bool, t_ns: int) -> None:
        if not self.notify or not self.iodir >> pin & 1:
            return
        now = self.levels()
        prev = now ^ (1 << pin)
        self.pty.write(f"\n\r# {now:0{self.width}X} {prev:0{self.width}X} {self.iodir:0{self.width}X}\n\r".encode())

    # --- the command line ---------------------------------------------------------------
    def _data(self, data: bytes) -> None:
        for b in data:
            if b in (13, 10):
                if b == 13:
                    self._command()
                continue
            if len(self.line) >= MAX_LINE:
                self.overflow = True
                continue
            self.line.append(b)
            self.pty.write(bytes([b]))  # the module echoes what it is sent

    def _command(self) -> None:
        text = self.line.decode("ascii", errors="replace").strip()
        overflow = self.overflow
        self.line.clear()
        self.overflow = False
        reply = None if overflow else self.execute(text, now_ns())
        out = "\r\n" + (reply + "\n\r" if reply is not None else "") + ">"
        self.pty.write(out.encode())

    def pin(self, token: str) -> int | None:
        if self.ports > 32:
            if len(token) == 2 and token.isdigit() and int(token) < self.ports:
                return int(token)
            return None
        if len(token) != 1:
            return None
        i = PIN_DIGITS.find(token.upper())
        return i if 0 <= i < self.ports else None

    def hexarg(self, token: str) -> int | None:
        if len(token) > self.width:
            return None
        try:
            v = int(token, 16)
        except ValueError:
            return None
        return v if 0 <= v <= self.full and len(token) <= self.width else None

    def execute(self, text: str, t_ns: int) -> str | None:
        words = text.split()
        if words == ["ver"]:
            return VERSION
        if words == ["id", "get"]:
            return self.id
        if len(words) == 3 and words[:2] == ["id", "set"] and len(words[2]) == 8:
            self.id = words[2]
            return None
        if len(words) < 2 or words[0] != "gpio":
            return None
        op, args = words[1], words[2:]
        if op in ("set", "clear") and len(args) == 1 and (p := self.pin(args[0])) is not None:
            self.iodir &= ~(1 << p)
            self.latch = self.latch | (1 << p) if op == "set" else self.latch & ~(1 << p)
            self._apply(t_ns, f"gpio {op} {args[0]}")
            return None
        if op == "read" and len(args) == 1 and (p := self.pin(args[0])) is not None:
            return "1" if self.level(p) else "0"
        if op == "readall" and not args:
            return f"{self.levels():0{self.width}X}"
        if op in ("iodir", "iomask", "writeall") and len(args) == 1 and (v := self.hexarg(args[0])) is not None:
            if op == "iomask":
                self.iomask = v
            elif op == "iodir":
                self.iodir = (self.iodir & ~self.iomask) | (v & self.iomask)
                self._apply(t_ns, f"gpio iodir {args[0]}")
            else:
                self.iodir &= ~self.iomask  # writeall makes the masked pins outputs
                self.latch = (self.latch & ~self.iomask) | (v & self.iomask)
                self._apply(t_ns, f"gpio writeall {args[0]}")
            return None
        if op == "notify" and len(args) == 1 and self.ports > 8:
            if args[0] in ("on", "off"):
                self.notify = args[0] == "on"
                return "gpio notify " + ("enabled" if self.notify else "disabled")
            if args[0] == "get":
                return "gpio notify " + ("enabled" if self.notify else "disabled")
        return None

    def close(self) -> None:
        self.pty.close()
