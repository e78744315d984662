"""The certification as a pytest session: one test item per requirement and camera, the campaign behind
them, and the reports pytest writes (junit.xml, pytest-html). Registered by `bwclab/rig/plugin.py` only when
`--bench` is given."""

from __future__ import annotations

import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from bwclab.core.builtin import resolve
from bwclab.core.config import ConfigError
from bwclab.rig import report
from bwclab.rig.campaign import Campaign, Outcome
from bwclab.rig.certificate import Certificate
from bwclab.rig.interfaces import BenchLost
from bwclab.rig.requirements import Requirement

DEFAULT_SPEC = "default"


class RequirementFailed(Exception):
    pass


class RequirementItem(pytest.Item):
    def __init__(self, *, requirement: Requirement, camera: str, cert: Certification, **kw: Any) -> None:
        super().__init__(**kw)
        self.requirement, self.camera, self.cert = requirement, camera, cert
        self.outcome: Outcome | None = None

    def runtest(self) -> None:
        try:
            o = self.cert.evaluate(self.requirement, self.camera)
        except BenchLost as exc:
            self.session.shouldstop = f"the bench was lost: {exc}"  # nothing more can be judged this session
            raise RequirementFailed(f"{self.requirement.id} on {self.camera}: not judged: the bench was lost "
                                    f"({exc}); the certificate says incomplete; finish with --resume") from None
        self.outcome = o
        m = o.measurement
        if m is not None:
            self.user_properties += [("value", str(m.value)), ("uncertainty", m.uncertainty),
                                     ("limit", self.requirement.limit.text(self.requirement.units))]
        self.user_properties.append(("verdict", o.verdict))
        if o.verdict == "not applicable":
            pytest.skip(f"not applicable: {o.reason}")
        if o.verdict != "pass":
            raise RequirementFailed(self._explain(o))

    def _explain(self, o: Outcome) -> str:
        req, m = self.requirement, o.measurement
        if m is None or o.verdict == "error":
            return f"{req.id} on {self.camera}: error: {o.reason}"
        return (f"{req.id} on {self.camera}: {req.text}\n  measured {req.quantity} = {m.value:.4g} {req.units} "
                f"({m.uncertainty}); judged on the {req.judge}; limit {req.limit.text(req.units)}: {o.verdict}"
                + (f"\n  {m.note}" if m.note else ""))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, RequirementFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.cert.spec_path, 0, f"{self.requirement.id} [{self.camera}]"


class Certification:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        try:
            bench = resolve("bench", config.getoption("bench"))
            self.spec_path = resolve("spec", config.getoption("requirements") or DEFAULT_SPEC)
            out = config.getoption("rig_out") or Path("results") / time.strftime("certify-%Y%m%d-%H%M%S")
            sink = next((p for p in config.pluginmanager.get_plugins() if hasattr(p, "bwclab_tick")), None)
            self.sink = sink
            self.campaign = Campaign(bench, self.spec_path, out, config.getoption("camera"),
                                     config.getoption("faults"), config.getoption("resume"),
                                     operator=config.getoption("operator"), progress=self._log,
                                     tick=sink.bwclab_tick if sink is not None else lambda _l, _d, _t: None)
        except ConfigError as exc:
            raise pytest.UsageError(exc.render()) from None
        self.log = (out / "run.log").open("a", encoding="utf-8")
        self.opened = False

    def _log(self, text: str) -> None:
        self.log.write(f"{time.strftime('%H:%M:%S')} {text}\n")
        self.log.flush()

    def evaluate(self, req: Requirement, camera: str) -> Outcome:
        if not self.opened:
            self.opened = True
            self.campaign.open()
        return self.campaign.evaluate(req, camera)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> bool:
        items: list[pytest.Item] = [
            RequirementItem.from_parent(session, name=f"{req.id}[{camera}]", requirement=req, camera=camera,
                                        cert=self, nodeid=f"{camera}::{req.id}")
            for req in self.campaign.spec.requirements for camera in self.campaign.cameras]
        self.config.hook.pytest_collection_modifyitems(session=session, config=self.config, items=items)
        session.items = items
        session.testscollected = len(items)
        self.config.hook.pytest_collection_finish(session=session)
        return True

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
        outcome = yield
        rep = outcome.get_result()
        if call.when != "call" or not isinstance(item, RequirementItem) or item.outcome is None:
            return
        png = report.plot_for(item.requirement, item.outcome)
        if png is not None:
            from pytest_html import extras  # type: ignore[import-untyped]

            rep.extras = [*getattr(rep, "extras", []), extras.png(png, item.requirement.id)]

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        if not self.campaign.stopped:  # pytest stops a session it was told to stop the same way as on Ctrl-C
            self.campaign.stopped = "interrupted (Ctrl-C) before every requirement was judged"

    def pytest_internalerror(self, excrepr: Any, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        self.campaign.stopped = f"the run crashed: {excinfo.typename}: {str(excinfo.value)[:200]}"

    certificate: Certificate | None = None

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.campaign.stopped.startswith("the bench was lost") and self.sink is not None:
            self.sink.bwclab_lost = self.campaign.stopped
        try:
            if session.shouldstop and not self.campaign.stopped:
                self.campaign.stopped = f"pytest stopped the session: {session.shouldstop}"
            self.certificate = self.campaign.write_results()
        finally:
            self.campaign.close()
            self.log.close()

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        report.title = f"bwclab certification: {self.campaign.bench.name} / {self.campaign.spec.name}"

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str],
                                    session: pytest.Session) -> None:
        by_id = {r.id: r for r in self.campaign.spec.requirements}
        rows = [(by_id[o.requirement], o) for o in self.campaign.outcomes.values()]
        prefix.append(report.summary(self.certificate or self.campaign.certificate()))
        prefix.append(report.traceability(rows))
