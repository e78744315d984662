from __future__ import annotations

import contextlib
import copy
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bwclab.sim.scenario import Scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real PostgreSQL server for this test session (pgserver: PostgreSQL from pip), stopped at its end."""
    import pgserver

    data = tmp_path_factory.mktemp("pgdata")
    server = {"srv": pgserver.get_server(data, cleanup_mode="stop")}  # type: ignore[attr-defined]

    def answers() -> bool:
        try:
            server["srv"].psql("SELECT 1;")
        except subprocess.CalledProcessError:
            return False
        return True

    def running() -> Any:
        """The server, or a new one if it stopped answering (seen in full parallel runs on a loaded machine: its
        socket refused connections, and starting it again on the same data did not bring it back): waited for up
        to 10 s first, then started afresh on new data. What the tests check is bwclab against PostgreSQL, not
        the server's life; each test makes its own database through this, so none loses one it made."""
        for _ in range(20):
            if answers():
                return server["srv"]
            time.sleep(0.5)
        with contextlib.suppress(Exception):
            server["srv"].cleanup()
        fresh = tmp_path_factory.mktemp("pgdata")
        server["srv"] = pgserver.get_server(fresh, cleanup_mode="stop")  # type: ignore[attr-defined]
        return server["srv"]

    yield running
    server["srv"].cleanup()


@pytest.fixture
def new_postgres_db(postgres_server: Any) -> Callable[[], str]:
    """Make a fresh database on the session's server; returns its URL."""

    def make() -> str:
        srv = postgres_server()
        name = f"bwclab_{uuid.uuid4().hex[:8]}"
        srv.psql(f"CREATE DATABASE {name};")
        base, _, query = srv.get_uri().partition("?")
        return f"{base.rsplit('/', 1)[0]}/{name}?{query}"

    return make


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


SCRIPTED_BASE: dict[str, Any] = {
    "name": "scripted",
    "seed": 3,
    "shift": {"start_hour": 0, "duration_h": 0.5},
    "area": {"width_mi": 1, "height_mi": 1},
    "fleet": {"officers": 2, "officers_at_ft": [[1000, 1000], [3000, 1000]]},
    "patrol": {"enabled": False, "instant_travel": False},
    "calls": {"per_hour": 0, "officer_initiated_per_hour": 0},
    "call_types": {
        "stop": {
            "units": 1,
            "time_on_scene_min": 10,
            "critical_after_arrival_s": 120,
            "scene": {"cruiser_stop_ft": 0, "exit_s": 5, "stand_ft": 0},
        }
    },
    "camera": {"sleep_probability": 0, "manual": {"compliance": 0}},
    "dash": {"fitted": False},
    "signal": {"detection": {"kind": "step", "radius_ft": 40}},
}


def scripted(extra: dict[str, Any]) -> Scenario:
    return scenario_from_dict(deep_merge(SCRIPTED_BASE, extra))


@pytest.fixture
def repo_root() -> Path:
    return ROOT
