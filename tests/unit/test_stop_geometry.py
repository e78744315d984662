"""Traffic-stop geometry: the cruiser pulls in behind the car it stopped, so its dash camera faces that car."""

from __future__ import annotations

import math
from pathlib import Path

from bwclab.sim.model import Shift
from bwclab.sim.motion import pulled_over_ahead
from bwclab.sim.scenario import load_scenario
from bwclab.sim.view import in_view

HARTFORD = Path(__file__).resolve().parents[2] / "scenarios" / "hartford-patrol-shift.yaml"


def test_pulled_over_car_stands_ahead_of_the_cruiser_and_to_its_right() -> None:
    x, y = pulled_over_ahead(100.0, 50.0, 0.0, 1.0, 20.0, 0.5)  # heading north
    assert math.isclose(y, 70.0) and math.isclose(x, 102.5)  # 20 ft ahead, 2.5 ft east: the cruiser's right
    assert in_view(100.0, 50.0, 0.0, 1.0, x, y, 20.0)


def test_initiating_cruisers_dash_camera_has_the_stopped_car_in_view_at_nearly_every_traffic_stop() -> None:
    sc = load_scenario(HARTFORD)
    seen = stops = 0
    for seed in (1, 2, 3, 4):
        r = Shift(sc, seed).run()
        for inc in r.incidents:
            view = r.views.get(inc.number)
            if not inc.officer_initiated or view is None or not inc.assigned or inc.assigned[0] not in view.dash:
                continue
            if inc.pursuit_from <= inc.critical_at:
                continue  # the subject ran: no longer at the car
            stops += 1
            seen += view.dash[inc.assigned[0]]
    assert stops >= 40
    assert seen >= 0.95 * stops, f"the stopped car in the dash camera's view at {seen} of {stops} stops"
