"""SCPI parsing as the emulated instruments need it: long/short mnemonics, error queue."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable

UNDEFINED_HEADER = (-113, "Undefined header")
ILLEGAL_VALUE = (-224, "Illegal parameter value")
DATA_OUT_OF_RANGE = (-222, "Data out of range")
MISSING_PARAMETER = (-109, "Missing parameter")
PARAMETER_NOT_ALLOWED = (-108, "Parameter not allowed")
INVALID_CHARACTER = (-101, "Invalid character")
NUMERIC_DATA = (-120, "Numeric data error")
EXECUTION_ERROR = (-200, "Execution error")
MAX_NUMBER_CHARS = 32
MAX_SUFFIX_DIGITS = 3  # a numeric suffix (CHANnel<n>, OUTPut<n>): no instrument has a thousand of anything
DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:E[+-]?\d+)?")  # SCPI's decimal numeric data (NR1, NR2, NR3)


class ScpiError(Exception):
    def __init__(self, code: tuple[int, str]) -> None:
        super().__init__(code[1])
        self.code = code


def _node(pattern: str) -> re.Pattern[str]:
    """`CHANnel#` matches CHAN, CHANNEL, chan1, channel2 ... (# captures a number)."""
    number = pattern.endswith("#")
    word = pattern.rstrip("#")
    short = "".join(c for c in word if c.isupper() or c.isdigit() or c == "*")
    alt = f"(?:{re.escape(word.upper())}|{re.escape(short)})"
    return re.compile(f"^{alt}(\\d{{0,{MAX_SUFFIX_DIGITS}}})$" if number else f"^{alt}$")


class Command:
    def __init__(self, spec: str, fn: Callable[[list[int], str], str | None], params: bool) -> None:
        self.params = params
        self.query = spec.endswith("?")
        parts = spec.rstrip("?").replace("[:", ":[").lstrip(":").split(":")
        self.nodes: list[tuple[re.Pattern[str], bool]] = []
        for part in parts:
            optional = part.startswith("[")
            self.nodes.append((_node(part.strip("[]")), optional))
        self.fn = fn

    def match(self, header: str) -> list[int] | None:
        tokens = header.lstrip(":").upper().split(":")
        return self._match(tokens, 0, [])

    def _match(self, tokens: list[str], i: int, nums: list[int]) -> list[int] | None:
        if i == len(self.nodes):
            return nums if not tokens else None
        pattern, optional = self.nodes[i]
        if tokens:
            m = pattern.match(tokens[0])
            if m:
                got = [*nums, int(m.group(1))] if m.groups() and m.group(1) else (
                    [*nums, 1] if m.groups() else nums)
                found = self._match(tokens[1:], i + 1, got)
                if found is not None:
                    return found
        if optional:
            return self._match(tokens, i + 1, [*nums, 1] if pattern.groups else nums)
        return None


class ScpiDevice:
    """Dispatches `HEADER[?] [ARGS]` lines, several per line with `;`, to registered commands. Every command it
    cannot execute queues an error, as the instrument does; a handler that fails in a way it did not foresee
    queues -200 and raises, so that the transport logs it."""

    def __init__(self) -> None:
        self.commands: list[Command] = []
        self.errors: deque[tuple[int, str]] = deque(maxlen=30)
        self.plain("*CLS", self.errors.clear)
        self.plain("SYSTem:ERRor[:NEXT]?", self._next_error)

    def on(self, spec: str, fn: Callable[[list[int], str], str | None]) -> None:
        """A command that takes parameters: `fn(suffix numbers, parameter text)`."""
        self.commands.append(Command(spec, fn, params=True))

    def plain(self, spec: str, fn: Callable[[], str | None]) -> None:
        """A command without parameters: one given is refused with -108."""
        self.commands.append(Command(spec, lambda n, a: fn(), params=False))

    def _next_error(self) -> str:
        if not self.errors:
            return '+0,"No error"'
        code, text = self.errors.popleft()
        return f'{code:+d},"{text}"'

    def handle(self, line: str) -> str | None:
        if any(ord(c) < 32 or ord(c) > 126 for c in line):
            self.errors.append(INVALID_CHARACTER)
            return None
        replies = []
        for part in line.split(";"):
            part = part.strip()
            if not part:
                continue
            header, _, args = part.partition(" ")
            query = header.endswith("?")
            cmd, nums = self._find(header.rstrip("?"), query)
            if cmd is None:
                self.errors.append(UNDEFINED_HEADER)
                continue
            if args.strip() and not cmd.params:
                self.errors.append(PARAMETER_NOT_ALLOWED)
                continue
            try:
                out = cmd.fn(nums, args.strip())
            except ScpiError as err:
                self.errors.append(err.code)
                continue
            except Exception:
                self.errors.append(EXECUTION_ERROR)
                raise
            if out is not None:
                replies.append(out)
        return ";".join(replies) if replies else None

    def _find(self, header: str, query: bool) -> tuple[Command | None, list[int]]:
        for cmd in self.commands:
            if cmd.query != query:
                continue
            nums = cmd.match(header)
            if nums is not None:
                return cmd, nums
        return None, []


def number(text: str, lo: float, hi: float) -> float:
    words = {"MIN": lo, "MINIMUM": lo, "MAX": hi, "MAXIMUM": hi}
    t = text.strip().upper()
    if not t:
        raise ScpiError(MISSING_PARAMETER)
    if t in words:
        return words[t]
    if len(t) > MAX_NUMBER_CHARS:
        raise ScpiError(NUMERIC_DATA)
    if not DECIMAL.fullmatch(t):  # float() would also take NAN, INF, 1_000
        raise ScpiError(ILLEGAL_VALUE)
    v = float(t)
    if not lo <= v <= hi:
        raise ScpiError(DATA_OUT_OF_RANGE)
    return v


def boolean(text: str) -> bool:
    t = text.strip().upper()
    if t in ("ON", "1"):
        return True
    if t in ("OFF", "0"):
        return False
    raise ScpiError(MISSING_PARAMETER if not t else ILLEGAL_VALUE)


def channel_list(text: str, count: int) -> list[int] | None:
    """`(@1)`, `(@1,3)`, `(@1:3)`; None when no list is given."""
    t = text.strip()
    if not t:
        return None
    m = re.fullmatch(r"\(@([\d,:]+)\)", t)
    if m is None:
        raise ScpiError(ILLEGAL_VALUE)
    out: list[int] = []
    for item in m.group(1).split(",")[:count + 1]:
        lo, _, hi = item.partition(":")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise ScpiError(ILLEGAL_VALUE)
        if len(lo) > 3 or len(hi) > 3:
            raise ScpiError(DATA_OUT_OF_RANGE)
        first, last = int(lo), int(hi or lo)
        if not 1 <= first <= last <= count:  # checked before the range is built
            raise ScpiError(DATA_OUT_OF_RANGE)
        out.extend(range(first, last + 1))
    if not out:
        raise ScpiError(DATA_OUT_OF_RANGE)
    return out


def sci(value: float) -> str:
    return f"{value:+.9E}"
