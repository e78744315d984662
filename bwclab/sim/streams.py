"""Random streams: one child of a SeedSequence per source, named, so sources never share draws.

A stream's key comes from its name (and an index), not from the order it was created in, so
adding a source of randomness to the model does not shift any other source's numbers, and a
sweep's points see common random numbers.
"""

from __future__ import annotations

import _random
import math
import random
import zlib
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray


def _name_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def seq(self, name: str, *index: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=(_name_key(name), *index))

    def rng(self, name: str, *index: int) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(self.seq(name, *index)))

    def key(self, name: str) -> int:
        """A 64-bit key for counter-based draws (see `keyed_uniform`)."""
        return int(self.seq(name).generate_state(1, dtype=np.uint64)[0])


_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15  # splitmix64's increment
_SPREAD = 0xD1B54A32D192ED03  # spreads the last part of an address over 64 bits before it is mixed in


def _mix(x: int) -> int:
    """splitmix64's output function of state x + increment: the one hash every keyed draw is made of."""
    z = (x + _GOLDEN) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def _at(prefix: int, b: int) -> int:
    """The hash of address (key, a, b) given `keyed_prefix(key, a)`."""
    return _mix(prefix ^ ((b * _SPREAD) & _M64))


def _unit(x: int) -> float:
    """A 64-bit hash as a uniform in (0, 1): its top 53 bits, centred in their interval."""
    return ((x >> 11) + 0.5) / 2.0**53


def keyed_prefix(key: int, a: int) -> int:
    """The part of every (key, a, b) address that b does not change: worked out once for many b (a broadcast's
    cameras), it makes `keyed_uniform_at` and `KeyedRandom.at` one hash each."""
    return _mix(key ^ _mix(a))


def keyed_uniform_at(prefix: int, b: int) -> float:
    """The uniform in (0, 1) addressed by (key, a, b), given `keyed_prefix(key, a)`: random access, the same in
    every run."""
    return _unit(_at(prefix, b))


def keyed_uniform(key: int, a: int, b: NDArray[np.int64]) -> NDArray[np.float64]:
    """`keyed_uniform_at` for many b at once."""
    prefix = keyed_prefix(key, a)
    return np.array([_unit(_at(prefix, v)) for v in np.atleast_1d(b).tolist()], dtype=float)


class KeyedRandom:
    """A cheap counter-based stream addressed by (key, a, b): draw k is the same in every run.

    Offers the draws the model needs with numpy Generator's signatures, so a scenario's distributions
    sample from either; per incident, officer or broadcast it costs a few hashes, not a SeedSequence."""

    __slots__ = ("_base", "_k")

    def __init__(self, key: int, a: int, b: int = 0) -> None:
        self._base = _at(keyed_prefix(key, a), b)
        self._k = 0

    @classmethod
    def at(cls, prefix: int, b: int) -> KeyedRandom:
        """`KeyedRandom(key, a, b)` given `keyed_prefix(key, a)`: the same draws."""
        rng = cls.__new__(cls)
        rng._base = _at(prefix, b)
        rng._k = 0
        return rng

    def _next(self) -> float:
        self._k += 1
        return _unit(_mix(self._base ^ ((self._k * _GOLDEN) & _M64)))

    def random(self) -> float:
        return self._next()

    def uniform(self, low: float = 0.0, high: float = 1.0) -> float:
        return low + (high - low) * self._next()

    def integers(self, n: int) -> int:
        return min(int(self._next() * n), n - 1)

    def normal(self, loc: float = 0.0, scale: float = 1.0) -> float:
        return loc + scale * _NORMAL.inv_cdf(self._next())

    def exponential(self, scale: float = 1.0) -> float:
        return -scale * math.log(self._next())

    def lognormal(self, mean: float = 0.0, sigma: float = 1.0) -> float:
        return math.exp(self.normal(mean, sigma))

    def gamma(self, shape: float, scale: float = 1.0) -> float:
        """Marsaglia and Tsang's method (shape < 1 boosted by a uniform power)."""
        boost = 1.0
        if shape < 1.0:
            boost = self._next() ** (1.0 / shape)
            shape += 1.0
        d = shape - 1.0 / 3.0
        c = 1.0 / math.sqrt(9.0 * d)
        while True:
            x = self.normal()
            v = (1.0 + c * x) ** 3
            if v > 0 and math.log(self._next()) < 0.5 * x * x + d - d * v + d * math.log(v):
                return d * v * scale * boost

    def beta(self, a: float, b: float) -> float:
        x = self.gamma(a)
        return x / (x + self.gamma(b))


_NORMAL = NormalDist()


class Stream(random.Random):
    """A per-entity stream (an officer's patrol, an incident, an officer at a scene), seeded from (key, a, b)
    so it does not depend on creation order: Mersenne Twister underneath (cheap draws), with numpy
    Generator's method names so a scenario's distributions sample from it."""

    def __init__(self, key: int, a: int, b: int = 0) -> None:
        # what random.Random(seed) does for an int seed, without its Python-level type checks (a third of the
        # cost: the model seeds a few hundred streams a shift); the same state, so the same draws
        _random.Random.seed(self, _at(keyed_prefix(key, a), b))
        self.gauss_next = None

    def uniform(self, low: float = 0.0, high: float = 1.0) -> float:
        return low + (high - low) * self.random()

    def normal(self, loc: float = 0.0, scale: float = 1.0) -> float:
        return self.gauss(loc, scale)

    def exponential(self, scale: float = 1.0) -> float:
        return self.expovariate(1.0 / scale)

    def lognormal(self, mean: float = 0.0, sigma: float = 1.0) -> float:
        return self.lognormvariate(mean, sigma)

    def gamma(self, shape: float, scale: float = 1.0) -> float:
        return self.gammavariate(shape, scale)

    def beta(self, a: float, b: float) -> float:
        return self.betavariate(a, b)

    def integers(self, n: int) -> int:
        return min(int(self.random() * n), n - 1)
