import numpy as np
import pytest

from bwclab.camera.detection import LogisticCurve, StepCurve, TableCurve
from bwclab.sim.streams import keyed_uniform

U = keyed_uniform(99, 1, np.arange(200_000))


@pytest.mark.parametrize("d", [0.0, 30.0, 38.0, 40.0, 43.0, 50.0])
def test_effective_radius_reproduces_the_logistic_curve_for_a_still_camera(d):
    curve = LogisticCurve(40.0, 3.0)
    heard = float(np.mean(curve.radius_for(U) >= d))
    expected = float(curve.probability(np.array([d]))[0])
    assert abs(heard - expected) < 4 * np.sqrt(expected * (1 - expected) / len(U)) + 1e-4


@pytest.mark.parametrize("d", [5.0, 20.0, 30.0, 45.0, 55.0])
def test_effective_radius_reproduces_a_measured_table(d):
    curve = TableCurve((0.0, 20.0, 40.0, 60.0), (1.0, 0.95, 0.5, 0.0))
    heard = float(np.mean(curve.radius_for(U) >= d))
    expected = float(curve.probability(np.array([d]))[0])
    assert abs(heard - expected) < 4 * np.sqrt(max(expected * (1 - expected), 1e-6) / len(U)) + 1e-3


def test_step_curve_hears_exactly_inside_its_radius():
    curve = StepCurve(30.0)
    assert list(curve.probability(np.array([29.9, 30.0, 30.1]))) == [1.0, 1.0, 0.0]
    assert np.all(curve.radius_for(U[:10]) == 30.0)


def test_table_must_not_increase():
    with pytest.raises(ValueError, match="must not increase"):
        TableCurve((0.0, 10.0), (0.5, 0.9))
