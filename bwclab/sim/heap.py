"""Python's cyclic garbage collector, paused while a shift runs.

A shift allocates millions of small objects (events, callbacks, records) and keeps most of them, in a heap that
only grows; almost none of them form reference cycles, which are all the collector exists to free. Its passes
over that heap cost 9.0 of the metro day's 63 s (14%, timed with `gc.callbacks`), and over the whole day they
freed about a thousand objects. So a shift runs with the collector off and turns it back on (if it was on)
when it ends; reference counting frees everything else as usual, and what few cycles a run leaves are
collected after it. Draws, events and results do not depend on it: the same seed gives the same run."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
