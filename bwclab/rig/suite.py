"""The certification as a pytest session: one test item per requirement and camera, the campaign behind
them, and the reports pytest writes (junit.xml, pytest-html). Registered by `bwclab/rig/plugin.py` only when
`--bench` is given.

The session's exit status follows the certificate, not only the tests that ran: a run that judged less than
its spec (pytest's `-k`, `--camera` on a bench with other cameras, a run that stopped) is `incomplete` and
never exits 0, and the terminal's last lines say the certificate's verdict, its grade and what it left out."""

from __future__ import annotations

import logging
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from bwclab.core.builtin import resolve
from bwclab.core.config import ConfigError
from bwclab.rig import report
from bwclab.rig.campaign import Campaign, Outcome, Stop
from bwclab.rig.certificate import Certificate
from bwclab.rig.interfaces import BenchLost
from bwclab.rig.requirements import Requirement

DEFAULT_SPEC = "default"
PROGRESS = "bwclab.rig.progress"  # the campaign's progress lines, in run.log as `HH:MM:SS text`


def progress_log(path: Path) -> logging.Logger:
    """The logger the campaign's progress lines go to: each line appended to PATH (run.log) and flushed as it is
    logged, at every --log-level, and only there: not repeated by the command's own run.log handler nor shown on
    the terminal."""
    log = logging.getLogger(PROGRESS)
    log.setLevel(logging.INFO)
    log.propagate = False
    end_progress_log(log)  # a session that never finished (in this process) left its file open
    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    log.addHandler(handler)
    return log


def end_progress_log(log: logging.Logger) -> None:
    """Close the file the progress lines went to."""
    for handler in log.handlers[:]:
        log.removeHandler(handler)
        handler.close()


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
        shown = req.shown(m.value)
        return (f"{req.id} on {self.camera}: {req.text}\n  measured {req.quantity} = {shown:.4g} {req.units} "
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
        self.log = progress_log(out / "run.log")
        self.opened = False

    def _log(self, text: str) -> None:
        self.log.info(text)

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
        everything = {(i.requirement.id, i.camera) for i in items if isinstance(i, RequirementItem)}
        self.config.hook.pytest_collection_modifyitems(session=session, config=self.config, items=items)
        kept = {(i.requirement.id, i.camera) for i in items if isinstance(i, RequirementItem)}
        if kept != everything:  # narrowed on purpose: the certificate says so, and is incomplete
            self.campaign.deselected = everything - kept
            self.campaign.selection = self._selection()
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

    def _selection(self) -> str:
        """The options that narrowed the session, as the user gave them."""
        words = [f"{flag} {value}" for flag, value in (("-k", self.config.getoption("keyword", "")),
                                                         ("-m", self.config.getoption("markexpr", ""))) if value]
        return " ".join(words) or "pytest's selection (--deselect)"

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        # pytest stops a session it was told to stop the same way as on Ctrl-C: a cause already known stands
        self.campaign.stop(Stop.INTERRUPTED, "interrupted (Ctrl-C) before every requirement was judged")

    def pytest_internalerror(self, excrepr: Any, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        self.campaign.stop(Stop.CRASHED, f"the run crashed: {excinfo.typename}: {str(excinfo.value)[:200]}",
                           override=True)

    certificate: Certificate | None = None

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.sink is not None:
            self.sink.bwclab_stopped = self.campaign.ended
        try:
            if session.shouldstop:
                self.campaign.stop(Stop.HALTED, f"pytest stopped the session: {session.shouldstop}")
            self.certificate = self.campaign.write_results()
            if self.certificate.verdict != "pass" and session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED  # judged less than its spec: never exit 0
        finally:
            self.campaign.close()
            end_progress_log(self.log)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        cert = self.certificate
        if cert is None:
            return
        tr = terminalreporter
        graded = "" if cert.grade == "procurement" else " (indicative)"
        tr.write_sep("=", f"certificate: {cert.verdict.upper()}{graded}: {self.campaign.out / 'measurements.json'}",
                     green=cert.verdict == "pass", red=cert.verdict != "pass", bold=True)
        if cert.grade_reasons:
            more = f" (+{len(cert.grade_reasons) - 4} more)" if len(cert.grade_reasons) > 4 else ""
            tr.write_line("indicative, not a procurement verdict: " + "; ".join(cert.grade_reasons[:4]) + more)
        if cert.reason:
            tr.write_line(f"not final: {cert.reason}")
        if cert.resume:
            tr.write_line(f"to finish: {cert.resume}")

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
