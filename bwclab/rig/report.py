"""What a purchasing committee reads: the certificate's summary, the traceability table and the plots,
as HTML fragments and PNG images that pytest-html embeds in a self-contained report.html."""

from __future__ import annotations

import html
import math
from typing import Any

from bwclab.rig.campaign import Outcome
from bwclab.rig.certificate import Certificate
from bwclab.rig.requirements import Requirement, judged_value

COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "error": "#9a6700", "not applicable": "#57606a",
           "incomplete": "#9a6700"}
CELL = "border:1px solid #ccc;padding:2px 6px"


def _fmt(x: Any, units: str = "") -> str:
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if not math.isfinite(x):
        return "no activation" if x > 0 else "-inf"
    text = f"{x:.4g}"
    return f"{text} {units}".strip()


def summary(cert: Certificate) -> str:
    """The verdict and its grade first, then what it rests on: counts (not applicable included), what was not
    judged and why (narrowed on purpose, or the run stopped), why it is only indicative."""
    colour = COLOURS.get(cert.verdict, "#000")
    counts = ", ".join(f"{n} {v}" for v, n in cert.counts.items() if n)
    grade = "" if cert.grade == "procurement" else f" <span style='color:{COLOURS['incomplete']}'>(INDICATIVE)</span>"
    parts = [f"<h2>Verdict: <span style='color:{colour}'>{html.escape(cert.verdict.upper())}</span>{grade}</h2>",
             f"<p>{html.escape(counts)} (requirement x camera); {cert.trials} trials, {cert.errored_attempts} "
             f"errored attempts, {cert.sessions} session(s).</p>"]
    if cert.grade_reasons:
        parts.append("<p><b>Indicative, not a procurement verdict:</b> " + html.escape("; ".join(cert.grade_reasons))
                     + "</p>")
    if cert.reason:
        parts.append(f"<p><b>Not final:</b> {html.escape(cert.reason)}</p>")
    if cert.unjudged:
        listed = ", ".join(f"{u.requirement} on {u.camera} ({u.why})" for u in cert.unjudged[:40])
        more = f" and {len(cert.unjudged) - 40} more" if len(cert.unjudged) > 40 else ""
        parts.append(f"<p>Not judged: {html.escape(listed + more)}</p>")
    if cert.resume:
        parts.append(f"<p>To finish it: <code>{html.escape(cert.resume)}</code></p>")
    parts.append(identity(cert))
    return "".join(parts)


def identity(cert: Certificate) -> str:
    """What was tested, with what, by whom: cameras, instruments and their calibration, files, software."""
    ident = cert.identity
    if ident is None:
        return ""
    e = html.escape
    overdue = ident.overdue
    parts = ["<h2>On record</h2>"]
    if overdue:
        parts.append(f"<p style='color:{COLOURS['fail']};font-weight:bold'>Calibration overdue: "
                     f"{e(', '.join(overdue))}</p>")
    cams = "; ".join(f"{c.serial}: {c.model or '?'} firmware {c.firmware or '?'} ({c.source})" for c in ident.cameras)
    insts = "; ".join(f"{i.name}: {i.idn or i.error or '?'}"
                      + (f" (calibrated {i.calibrated}, due {i.calibration_due}"
                         f"{', OVERDUE' if i.overdue else ''})" if i.calibration_due or i.calibrated else "")
                      for i in ident.instruments)
    h = cert.health
    rows = [("cameras", cams), ("instruments", insts),
            ("bench file sha256", ident.bench_sha256), ("spec sha256", ident.spec_sha256),
            ("bwclab", f"{ident.bwclab_version} {ident.git_commit}".strip()), ("host, operator",
                                                                              f"{ident.host}, {ident.operator}"),
            ("started, ended", f"{ident.started} .. {ident.ended}"),
            ("bench health", f"{h.errored_attempts} errored attempts, {h.retried_steps} retried steps"
             + (f"; by device: {', '.join(f'{k} {v}' for k, v in sorted(h.errors_by_device.items()))}"
                if h.errors_by_device else "") + (f"; lost: {h.lost}" if h.lost else ""))]
    parts.append("<table style='border-collapse:collapse'>" + "".join(
        f"<tr><td style='{CELL};font-weight:bold'>{e(k)}</td><td style='{CELL}'>{e(v)}</td></tr>" for k, v in rows)
        + "</table>")
    return "".join(parts)


def traceability(rows: list[tuple[Requirement, Outcome]]) -> str:
    head = ("<h2>Traceability</h2><table class='traceability' style='border-collapse:collapse'>"
            "<tr><th>Requirement</th><th>Camera</th><th>Text</th><th>Measured</th><th>Uncertainty</th>"
            "<th>Limit</th><th>Judged on</th><th>Verdict</th><th>Notes</th></tr>")
    body = []
    for req, o in rows:
        m = o.measurement
        judged = "the estimate" if req.judge == "estimate" else f"its one-sided 95% {req.judge} bound"
        if m is not None and req.judge != "estimate":
            judged += f" ({_fmt(req.shown(judged_value(req, m)), req.units)})"
        if o.indicative:
            judged += f" (indicative: {o.indicative})"
        cells = [req.id, o.camera, req.text, _fmt(req.shown(m.value), req.units) if m else "-",
                 m.uncertainty if m else "-", req.limit.text(req.units), judged, o.verdict,
                 o.reason or (m.note if m else "")]
        style = f"color:{COLOURS[o.verdict]};font-weight:bold"
        tds = "".join(f"<td style='{CELL}{';' + style if i == 7 else ''}'>{html.escape(str(c))}</td>"
                      for i, c in enumerate(cells))
        body.append(f"<tr>{tds}</tr>")
    return head + "".join(body) + "</table>"


def plot_for(req: Requirement, o: Outcome) -> str | None:
    m = o.measurement
    if m is None or not m.plot or req.proc.plot is None:
        return None
    return req.proc.plot(req.id, req.limit, m)
