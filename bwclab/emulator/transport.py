"""Real transports: a pseudo-terminal per serial device, a TCP listener per instrument."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import tty
from collections.abc import Callable

from bwclab.emulator.loop import Loop

MAX_PENDING = 256 * 1024  # bytes queued for a reader that is not reading; older bytes are dropped
MAX_UNREAD = 256 * 1024  # replies queued for a TCP client that is not reading: past this it is dropped


class PtyPort:
    """The device end of a pseudo-terminal; clients open `name` with pyserial.

    The emulator keeps the terminal end open itself, so a client may close and reopen the
    port at will without the device end seeing a hang-up.
    """

    def __init__(self, loop: Loop, on_data: Callable[[bytes], None]) -> None:
        self.loop = loop
        self.on_data = on_data
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.name = os.ttyname(self._slave)
        os.set_blocking(self.master, False)
        self._out = bytearray()
        self.closed = False
        loop.add_reader(self.master, self._readable)

    def write(self, data: bytes) -> None:
        if self.closed or not data:
            return
        self._out += data
        if len(self._out) > MAX_PENDING:
            del self._out[: len(self._out) - MAX_PENDING]
        self._flush()

    def _flush(self) -> None:
        while self._out:
            try:
                n = os.write(self.master, self._out)
            except BlockingIOError:
                self.loop.set_writer(self.master, self._readable, self._flush)
                return
            except OSError:
                self._out.clear()
                return
            del self._out[:n]
        self.loop.set_writer(self.master, self._readable, None)

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 4096)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno == errno.EIO:
                return
            raise
        if data:
            self.on_data(data)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.loop.remove(self.master)
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


LineHandler = Callable[[str], str | None]


class TcpInstrument:
    """A line-oriented instrument on 127.0.0.1: each line in, at most one reply out.

    A line longer than `max_line` is replaced by one the handler refuses, however its bytes arrive; a
    client that leaves more than MAX_UNREAD bytes of replies unread is disconnected; a handler that
    raises on a line logs it and answers nothing: no line can stop the bench."""

    def __init__(self, loop: Loop, make_handler: Callable[[], LineHandler], reply_end: bytes,
                 max_line: int = 8192, on_error: Callable[[str], None] = lambda _text: None) -> None:
        self.on_error = on_error
        self.loop = loop
        self.make_handler = make_handler
        self.reply_end = reply_end
        self.max_line = max_line
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]
        self.conns: set[_Conn] = set()
        loop.add_reader(self.sock, self._accept)

    def _accept(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conns.add(_Conn(self, conn, self.make_handler()))

    def close(self) -> None:
        for c in list(self.conns):
            c.close()
        self.loop.remove(self.sock)
        self.sock.close()


class _Conn:
    def __init__(self, server: TcpInstrument, sock: socket.socket, handler: LineHandler) -> None:
        self.server, self.sock, self.handler = server, sock, handler
        self.inbuf = bytearray()
        self.out = bytearray()
        self.discarding = False
        server.loop.add_reader(sock, self._readable)

    def _readable(self) -> None:
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        self.inbuf += data
        while True:
            cut = min((i for i in (self.inbuf.find(b"\n"), self.inbuf.find(b"\r")) if i >= 0), default=-1)
            if cut < 0:
                if len(self.inbuf) > self.server.max_line:
                    self.inbuf.clear()
                    self.discarding = True  # the rest of this over-long line is ignored
                return
            raw = bytes(self.inbuf[:cut])
            del self.inbuf[: cut + 1]
            if self.discarding or len(raw) > self.server.max_line:
                self.discarding = False
                raw = b"\x00"  # the over-long line, as one the handler refuses (a control character)
            if not raw.strip():
                continue
            text = raw.decode("ascii", errors="replace").strip()
            try:
                reply = self.handler(text)
            except Exception as exc:  # a handler bug must not take the bench down: log it, answer nothing
                self.server.on_error(f"{type(exc).__name__}: {exc} on {text[:80]!r}")
                continue
            if reply is not None:
                self._send(reply.encode("ascii", errors="replace") + self.server.reply_end)
                if self.sock.fileno() < 0:
                    return

    def _send(self, data: bytes) -> None:
        self.out += data
        if len(self.out) > MAX_UNREAD:
            self.server.on_error(f"client does not read its replies ({len(self.out):,} bytes queued): dropped")
            self.close()
            return
        self._flush()

    def _flush(self) -> None:
        while self.out:
            try:
                n = self.sock.send(self.out)
            except BlockingIOError:
                self.server.loop.set_writer(self.sock, self._readable, self._flush)
                return
            except OSError:
                self.close()
                return
            del self.out[:n]
        with contextlib.suppress(KeyError, ValueError):
            self.server.loop.set_writer(self.sock, self._readable, None)

    def close(self) -> None:
        self.server.loop.remove(self.sock)
        self.server.conns.discard(self)
        self.out.clear()
        self.inbuf.clear()
        with contextlib.suppress(OSError):
            self.sock.close()
