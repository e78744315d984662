"""The scalar keyed draws a broadcast's solver uses give the numpy path's values exactly, so which path solves a
camera (SCALAR_BELOW) cannot change a shift."""

import numpy as np

from bwclab.sim.streams import KeyedRandom, keyed_prefix, keyed_uniform, keyed_uniform_at


def test_scalar_draws_equal_the_vector_draws():
    key, a = 0x1234_5678_9ABC_DEF0, 41
    bs = np.arange(0, 5000, 7)
    vector = keyed_uniform(key, a, bs).tolist()
    scalar = [keyed_uniform_at(keyed_prefix(key, a), int(b)) for b in bs]
    assert scalar == vector
    assert len(set(scalar)) == len(scalar)


def test_a_stream_from_a_prefix_draws_as_one_from_its_key():
    key, a = 987654321, 3
    for b in (0, 1, 77):
        direct, prefixed = KeyedRandom(key, a, b), KeyedRandom.at(keyed_prefix(key, a), b)
        assert [direct.random() for _ in range(20)] == [prefixed.random() for _ in range(20)]
    assert KeyedRandom(key, a, 1).random() != KeyedRandom(key, a, 2).random()
