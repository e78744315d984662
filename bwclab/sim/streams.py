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

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


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


def _splitmix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    # array arithmetic on uint64 wraps silently (only numpy scalars warn), as splitmix64 wants
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return np.asarray(z ^ (z >> np.uint64(31)), dtype=np.uint64)


def keyed_uniform(key: int, a: int, b: NDArray[np.int64]) -> NDArray[np.float64]:
    """Uniforms in (0, 1) addressed by (key, a, b): random access, the same for every run."""
    bb = np.atleast_1d(np.asarray(b, dtype=np.uint64))
    x = _splitmix64(np.full(bb.shape, np.uint64(key), dtype=np.uint64) ^ _splitmix64(
        np.full(bb.shape, np.uint64(a), dtype=np.uint64)))
    x = _splitmix64(x ^ (bb * np.uint64(0xD1B54A32D192ED03)))
    return np.asarray(((x >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53, dtype=float)


_M64 = (1 << 64) - 1


def _mix(x: int) -> int:
    """splitmix64 on Python ints: the same function as `_splitmix64`, for one value."""
    z = (x + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def keyed_prefix(key: int, a: int) -> int:
    """The part of every (key, a, b) address that b does not change: worked out once for many b (a broadcast's
    cameras), it makes `keyed_uniform_at` and `KeyedRandom.at` one hash each."""
    return _mix(key ^ _mix(a))


def keyed_uniform_at(prefix: int, b: int) -> float:
    """`keyed_uniform(key, a, b)` for a single b, given `keyed_prefix(key, a)`, without numpy (identical value)."""
    x = _mix(prefix ^ ((b * 0xD1B54A32D192ED03) & _M64))
    return ((x >> 11) + 0.5) / 2.0**53


class KeyedRandom:
    """A cheap counter-based stream addressed by (key, a, b): draw k is the same in every run.

    Offers the draws the model needs with numpy Generator's signatures, so a scenario's distributions
    sample from either; per incident, officer or broadcast it costs a few hashes, not a SeedSequence."""

    __slots__ = ("_base", "_k")

    def __init__(self, key: int, a: int, b: int = 0) -> None:
        self._base = _mix(keyed_prefix(key, a) ^ ((b * 0xD1B54A32D192ED03) & _M64))
        self._k = 0

    @classmethod
    def at(cls, prefix: int, b: int) -> KeyedRandom:
        """`KeyedRandom(key, a, b)` given `keyed_prefix(key, a)`: the same draws."""
        rng = cls.__new__(cls)
        rng._base = _mix(prefix ^ ((b * 0xD1B54A32D192ED03) & _M64))
        rng._k = 0
        return rng

    def _next(self) -> float:
        self._k += 1
        x = _mix(self._base ^ ((self._k * 0x9E3779B97F4A7C15) & _M64))
        return ((x >> 11) + 0.5) / 2.0**53

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
        _random.Random.seed(self, _mix(_mix(key ^ _mix(a)) ^ ((b * 0xD1B54A32D192ED03) & _M64)))
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
