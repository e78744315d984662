"""A certification's last lines (`rig certify`, `nightly`, `demo`): the certificate's verdict, one line per
requirement and camera that failed or erred (the value measured, what was judged, the estimate or a one-sided
95% bound with its value, and the limit), each requirement not judged with its cameras and why, a night's drift
regressions, why the verdict is only indicative, how to finish, and where the report is. Plain text (no ANSI
codes) unless the console is a terminal, never wrapped: a path stays one piece."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from rich.console import Console
from rich.text import Text

from bwclab.rig.certificate import Certificate, Result


def number(x: float | str | None, units: str = "") -> str:
    if x is None:
        return "none"
    shown = f"{x:.4g}" if isinstance(x, float | int) else str(x)
    return f"{shown} {units}".strip()


def limit_text(r: Result) -> str:
    return " and ".join(f"{'<=' if k == 'max' else '>='} {number(v, r.units)}" for k, v in r.limit.items())


def judged_on(r: Result) -> str:
    if r.judge == "estimate":
        return "judged on the estimate"
    return f"judged on its {r.judge} 95% bound, {number(r.judged_value, r.units)}"


def result_line(r: Result) -> str:
    """One failed or erred requirement on one camera: what was measured, against what, judged on what."""
    where = f"{r.requirement} on {r.camera}: {r.verdict}"
    if r.value is None:
        return f"{where}: {r.note or 'no measurement'}; limit {limit_text(r)}"
    line = f"{where}: {r.quantity} {number(r.value, r.units)}, {judged_on(r)}; limit {limit_text(r)}"
    return line + (f"; {r.note}" if r.note and r.verdict == "error" else "")


def problem_lines(cert: Certificate) -> list[tuple[str, str]]:
    """(style, line) for each requirement and camera that failed or erred, then each requirement not judged
    on some cameras (its cameras on one line)."""
    lines = [("red", result_line(r)) for r in cert.results if r.verdict == "fail"]
    lines += [("red", result_line(r)) for r in cert.results if r.verdict == "error"]
    lines += [("yellow", f"{r.requirement} on {r.camera}: not applicable, not judged: {r.note}")
              for r in cert.results if r.verdict == "not applicable" and not getattr(r, "optional", True)]
    unjudged: dict[tuple[str, str], list[str]] = {}
    for u in cert.unjudged:
        unjudged.setdefault((u.requirement, str(getattr(u, "why", "not run"))), []).append(u.camera)
    for (req, why), cams in unjudged.items():
        lines.append(("yellow", f"{req} on {', '.join(cams)}: not judged ({why})"))
    return lines


def verdict_line(cert: Certificate) -> tuple[str, str]:
    counts = ", ".join(f"{n} {k}" for k, n in cert.counts.items() if n)
    graded = str(getattr(cert, "grade", "procurement"))
    head = f"certificate: {cert.verdict.upper()}" + ("" if graded == "procurement" else f" ({graded})")
    return ("green" if cert.verdict == "pass" else "red"), f"{head}: {cert.bench} / {cert.spec}" + (
        f"; {counts}" if counts else "")


def show_outcome(console: Console, cert: Certificate | None, out: Path, regressions: Iterable[str] = ()) -> None:
    """The run's last lines: the verdict, what failed, erred or was not judged, the regressions (nightly),
    what to do next, and where the report is."""

    def line(text: str, style: str = "") -> None:
        console.print(Text(text, style=style if console.is_terminal else ""), soft_wrap=True)

    if cert is None:
        line(f"certificate: none written: the run ended before it; see {out / 'run.log'}", "red")
        return
    style, text = verdict_line(cert)
    line(text, f"bold {style}")
    for style, text in problem_lines(cert):
        line(f"  {text}", style)
    for text in regressions:
        line(f"  {text}", "red")
    reasons: list[str] = list(getattr(cert, "grade_reasons", []))
    if reasons:
        more = f" (+{len(reasons) - 4} more)" if len(reasons) > 4 else ""
        line("indicative, not a procurement verdict: " + "; ".join(reasons[:4]) + more, "yellow")
    if cert.reason:
        line(f"not final: {cert.reason}", "yellow")
    if cert.resume:
        line(f"to finish: {cert.resume}")
    line(f"report: {out / 'report.html'}")


def regressions(night: Path) -> list[str]:
    """A night's drift regressions (its drift.json), one line each: requirement, camera, the change and its
    95% CI, the test that flagged it."""
    try:
        judged = json.loads((night / "drift.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    drift, runs = judged.get("drift", []), judged.get("baseline", [])
    against = f"run{'s' if len(runs) > 1 else ''} {', '.join(map(str, runs))}" if runs else "the baseline"
    lines = []
    for d in drift:
        if d.get("verdict") != "regressed":
            continue
        eff = "" if d.get("effect") is None else (f" {d['effect']:+.4g} [{d['ci_low']:+.4g}, {d['ci_high']:+.4g}] "
                                                  f"{d.get('units', '')}".rstrip())
        note = f"; {d['note']}" if d.get("note") else ""
        lines.append(f"{d['requirement']} on {d['camera']}: regressed against {against}:{eff} "
                     f"({d.get('test', '')}){note}")
    return lines
