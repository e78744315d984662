from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.harness import Emulator


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    e = Emulator(tmp_path_factory.mktemp("bench"))
    yield e
    rc, took = e.stop()
    assert rc == 0 and took < 2.0, (rc, took)
