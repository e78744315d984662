"""The keyed draws: one splitmix64, the published one, behind every counter-based draw of the model."""

import numpy as np
from scipy import stats

from bwclab.sim.streams import _GOLDEN, _M64, KeyedRandom, Stream, _mix, keyed_prefix, keyed_uniform, keyed_uniform_at


def test_the_hash_is_splitmix64_as_published() -> None:
    # Vigna's splitmix64.c seeded with 1234567: its first five outputs
    published = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431,
                 16408922859458223821]
    state, out = 1234567, []
    for _ in published:
        out.append(_mix(state))
        state = (state + _GOLDEN) & _M64
    assert out == published


def test_many_draws_at_once_are_the_draws_one_at_a_time() -> None:
    key, a = 0x1234_5678_9ABC_DEF0, 41
    bs = np.arange(0, 5000, 7)
    many = keyed_uniform(key, a, bs).tolist()
    assert many == [keyed_uniform_at(keyed_prefix(key, a), int(b)) for b in bs]
    assert len(set(many)) == len(many)


def test_keyed_draws_are_uniform_and_open_at_both_ends() -> None:
    u = keyed_uniform(99, 1, np.arange(100_000))
    assert u.min() > 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_a_stream_from_a_prefix_draws_as_one_from_its_key() -> None:
    key, a = 987654321, 3
    for b in (0, 1, 77):
        direct, prefixed = KeyedRandom(key, a, b), KeyedRandom.at(keyed_prefix(key, a), b)
        assert [direct.random() for _ in range(20)] == [prefixed.random() for _ in range(20)]
    assert KeyedRandom(key, a, 1).random() != KeyedRandom(key, a, 2).random()


def test_streams_of_different_addresses_do_not_share_draws() -> None:
    draws = [Stream(5, a, b).random() for a in range(20) for b in range(20)]
    assert len(set(draws)) == len(draws)
