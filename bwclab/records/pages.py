"""calibration.html and backtest.html: one self-contained page each (no script, nothing fetched, plots inline as
PNG data), every fit drawn against its data.

Text from the records (call types, priorities) is escaped (html.escape), and a cell that begins with =, +, -, @
(or a tab or carriage return) is shown with a leading apostrophe and as text to a spreadsheet
(mso-number-format), so that a page opened in a spreadsheet shows it and never runs it as a formula."""

from __future__ import annotations

import base64
import html
import io
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bwclab.records.calibration import Samples

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#eee}.outside{background:#fdd}.inside{background:#dfd}img{max-width:100%}
.note{color:#555}"""


def text_cell(value: object) -> str:
    """A table cell of the department's text: escaped, and never a formula."""
    text = str(value)
    if text.startswith(FORMULA_START):
        return f"<td style='mso-number-format:\"\\@\"'>'{html.escape(text)}</td>"
    return f"<td>{html.escape(text)}</td>"


def num_cell(value: object) -> str:
    return f"<td>{html.escape(str(value))}</td>"


def ci(x: dict[str, Any] | None, fmt: str = ".3f") -> str:
    if not x or x.get("mean") is None:
        return "n/a"
    if x.get("ci_low") is None:
        return format(x["mean"], fmt)
    return f"{x['mean']:{fmt}} [{x['ci_low']:{fmt}}, {x['ci_high']:{fmt}}]"


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f"<img alt='plot' src='data:image/png;base64,{base64.b64encode(buf.getvalue()).decode('ascii')}'>"


def _figure(width: float = 9.0, height: float = 3.2, n: int = 1) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n, figsize=(width, height), squeeze=False)
    return fig, axes[0]


def _lognormal_pdf(ax: Any, values: NDArray[np.float64], fitted: dict[str, Any], unit: str, scale: float = 1.0) -> None:
    """A histogram of the values (log spaced) and the fitted lognormal's density over it."""
    v = values[np.isfinite(values) & (values > 0)]
    if len(v) < 2 or fitted.get("mu") is None or not fitted.get("sigma"):
        ax.text(0.5, 0.5, "too few values", ha="center", transform=ax.transAxes)
        return
    bins = np.geomspace(v.min(), v.max() * 1.0001, 30)
    ax.hist(v, bins=bins, density=True, color="#9bc", label=f"records (n={len(v):,})")
    x = np.geomspace(bins[0], bins[-1], 200)
    mu, s = fitted["mu"], fitted["sigma"]
    pdf = np.exp(-((np.log(x) - mu) ** 2) / (2 * s * s)) / (x * s * math.sqrt(2 * math.pi))
    ax.plot(x, pdf * scale, color="#c33", label=f"lognormal fit, mean {fitted['mean']:.3g} {unit}")
    ax.set_xscale("log")
    ax.set_xlabel(unit)
    ax.legend(fontsize=7)


def _calls_plot(cal: dict[str, Any], s: Samples) -> str:
    fig, (ax,) = _figure()
    days = s.calls_by_day_hour
    for d in range(days.shape[0]):
        ax.plot(np.arange(24) + 0.5 + (d - days.shape[0] / 2) * 0.02, days[d], ".", color="#9bc", ms=3)
    by = cal["calls_per_hour"]["by_hour"]
    m = np.array([h["mean"] or 0 for h in by])
    lo = np.array([h["ci_low"] or 0 for h in by])
    hi = np.array([h["ci_high"] or 0 for h in by])
    ax.step(np.arange(25), np.append(m, m[-1]), where="post", color="#c33", label="fitted calls per hour (per_hour)")
    ax.fill_between(np.arange(25), np.append(lo, lo[-1]), np.append(hi, hi[-1]), step="post", color="#c33",
                    alpha=0.2, label="95% CI")
    ax.set_xlabel("clock hour")
    ax.set_ylabel("calls in the hour")
    ax.set_title("calls by hour of day: each day's count (dots) and the fit")
    ax.legend(fontsize=7)
    return _png(fig)


def _types_plot(cal: dict[str, Any]) -> str:
    types = list(cal["call_types"])
    fig, (ax1, ax2) = _figure(10, 3.2, 2)
    shares = [cal["call_types"][t]["share"] for t in types]
    m = np.array([x["mean"] or 0 for x in shares])
    err = np.array([[x["mean"] - x["ci_low"], x["ci_high"] - x["mean"]] if x["ci_low"] is not None else [0, 0]
                    for x in shares]).T
    ax1.barh(types, m, xerr=err, color="#9bc")
    ax1.set_xlabel("share of calls (95% CI)")
    ax1.set_title("call-type mix")
    comp = cal.get("compliance")
    if comp:
        cm = np.array([comp[t]["mean"] if comp[t]["mean"] is not None else np.nan for t in types])
        cerr = np.array([[comp[t]["mean"] - comp[t]["ci_low"], comp[t]["ci_high"] - comp[t]["mean"]]
                         if comp[t]["ci_low"] is not None else [0, 0] for t in types]).T
        ax2.errorbar(cm, types, xerr=cerr, fmt="o", color="#c33")
        overall = cal["compliance_all_types"]["mean"]
        if overall is not None:
            ax2.axvline(overall, color="#555", ls="--", label=f"all types {overall:.3f} (the scenario's)")
            ax2.legend(fontsize=7)
        ax2.set_xlim(0, 1)
        ax2.set_xlabel("manual compliance (95% CI)")
        ax2.set_title("manual compliance by call type")
    else:
        ax2.text(0.5, 0.5, "no audit export: compliance not fitted", ha="center", transform=ax2.transAxes)
    return _png(fig)


def _scene_plots(cal: dict[str, Any], s: Samples) -> str:
    types = [t for t in cal["call_types"] if len(s.time_on_scene_min.get(t, [])) >= 2][:12]
    out = []
    for k in range(0, len(types), 3):
        chunk = types[k:k + 3]
        fig, axes = _figure(10, 2.8, len(chunk))
        for ax, t in zip(axes, chunk, strict=True):
            _lognormal_pdf(ax, s.time_on_scene_min[t], cal["call_types"][t]["time_on_scene_min"], "min")
            ax.set_title(f"time on scene: {t}", fontsize=9)
        out.append(_png(fig))
    return "".join(out)


def _delay_plots(cal: dict[str, Any], s: Samples) -> str:
    fig, axes = _figure(10, 2.8, 3)
    _lognormal_pdf(axes[0], s.dispatch_delay_s, cal["dispatch_delay_s"], "s")
    axes[0].set_title("dispatch delay (received to dispatch)", fontsize=9)
    _lognormal_pdf(axes[1], s.travel_s, cal["travel_s"], "s")
    axes[1].set_title("travel (dispatch to arrival)", fontsize=9)
    press = cal.get("press_delay_s")
    d = s.press_delay_s
    if press and len(d):
        ax = axes[2]
        ax.hist(d, bins=40, color="#9bc", label=f"presses (n={len(d):,}); < 0: en route")
        ax.axvline(0, color="#555", lw=1)
        pos = d[d > 0]
        after = press["after_arrival"]
        if len(pos) >= 2 and after.get("mu") is not None and after.get("sigma"):
            width = (d.max() - d.min()) / 40
            x = np.linspace(max(pos.min(), 1e-3), d.max(), 200)
            mu, sg = after["mu"], after["sigma"]
            pdf = np.exp(-((np.log(x) - mu) ** 2) / (2 * sg * sg)) / (x * sg * math.sqrt(2 * math.pi))
            ax.plot(x, pdf * len(pos) * width, color="#c33", label=f"lognormal fit, mean {after['mean']:.3g} s")
        ax.set_xlabel("s from arrival")
        ax.legend(fontsize=7)
    else:
        axes[2].text(0.5, 0.5, "no presses to fit", ha="center", transform=axes[2].transAxes)
    axes[2].set_title("press delay from arrival", fontsize=9)
    return _png(fig)


def _odd_table(odd: dict[str, Any]) -> str:
    rows = []
    for which in ("cad", "audit"):
        for kind, v in (odd.get(which) or {}).items():
            count, lines = f"{v['rows']:,}", ", ".join(map(str, v["first_rows"]))
            rows.append(f"<tr><td>{which}</td><td>{html.escape(kind)}</td>{num_cell(count)}{num_cell(lines)}</tr>")
    if not rows:
        return "<p>No odd rows.</p>"
    return ("<table><tr><th>export</th><th>odd rows (counted, not fatal)</th><th>rows</th><th>first lines</th></tr>"
            + "".join(rows) + "</table>")


def _types_table(cal: dict[str, Any]) -> str:
    rows = []
    comp = cal.get("compliance", {})
    for t, v in cal["call_types"].items():
        depts = v["department_types"]
        units = v["units"]
        rows.append(f"<tr>{text_cell(t)}<td>{ci(v['share'])}</td><td>{ci(units, '.2f')}</td>"
                    f"<td>{ci(v['emergency'])}</td><td>{ci(v['time_on_scene_min'], '.1f')}</td>"
                    f"<td>{ci(comp.get(t))}</td>"
                    f"<td><table>{''.join(f'<tr>{text_cell(d)}</tr>' for d in depts[:50])}</table>"
                    f"{'...' if len(depts) > 50 else ''}</td></tr>")
    return ("<table><tr><th>call type</th><th>share</th><th>units per call</th><th>emergency share</th>"
            "<th>time on scene, min</th><th>manual compliance</th><th>the department's types</th></tr>"
            + "".join(rows) + "</table>")


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>\n")


def calibration_page(cal: dict[str, Any], s: Samples) -> str:
    rec = cal["records"]
    p = rec["period"]
    parts = [
        "<p>" + html.escape(f"From {rec['cad']}" + (f" and {rec['audit']}" if rec["audit"] else "")
                            + f", {p['first_call']} to {p['last_call']} ({p['days']} days): {rec['calls']:,} calls, "
                            f"{rec['responses']:,} unit responses") + (f", {rec['recordings']:,} recordings "
                            f"({rec['recordings_by_call']:,} placed by their call, {rec['recordings_by_time']:,} by "
                            f"their officer's time on scene, {rec['recordings_during_no_response']:,} during no "
                            "response)" if "recordings" in rec else "") + ".</p>",
        f"<p>Calls per hour overall: {ci(cal['calls_per_hour'], '.2f')}. Dispatch delay: mean "
        f"{ci(cal['dispatch_delay_s'], '.0f')} s. Travel: mean {ci(cal['travel_s'], '.0f')} s.</p>",
    ]
    if "compliance_all_types" in cal:
        trig = cal["triggers"]
        press = cal["press_delay_s"]
        parts.append(
            f"<p>Manual compliance, all types: {ci(cal['compliance_all_types'])}. Press delay after arrival: mean "
            f"{ci(press['after_arrival'], '.0f')} s; en route on priority responses: {ci(press['en_route'])}, on "
            f"routine ones: {ci(press['en_route_routine'])}. Officers' spread, sd on the logit scale: "
            f"{ci(cal['officer_spread_logit'], '.2f')}. Triggers fielded: "
            f"{html.escape(', '.join(trig['fielded']) or 'none (manual-only)')}. Responses with video: "
            f"{ci(cal['with_video'])}.</p>")
    parts += ["<h2>Calls</h2>", _calls_plot(cal, s), "<h2>Call types</h2>", _types_table(cal), _types_plot(cal),
              "<h2>Time on scene</h2>", _scene_plots(cal, s), "<h2>Delays</h2>", _delay_plots(cal, s),
              "<h2>What the scenario cannot hold yet</h2><ul>"
              + "".join(f"<li>{html.escape(v)}</li>" for v in cal["scenario_lacks"].values()) + "</ul>",
              "<h2>Odd rows</h2>", _odd_table(rec["odd_rows"])]
    return _page("Calibration", "".join(parts))


def _interval_plot(rows: list[tuple[str, dict[str, Any]]]) -> str:
    fig, (ax,) = _figure(9, 0.4 * len(rows) + 1.2)
    for y, (_, v) in enumerate(rows):
        o, p = v["with_video"]["observed"], v["with_video"]["predicted"]
        if p.get("ci_low") is not None:
            ax.plot([p["ci_low"], p["ci_high"]], [y + 0.12] * 2, color="#c33", lw=4, alpha=0.6,
                    label="model: 95% prediction interval" if y == 0 else None)
        if o.get("mean") is not None:
            ax.errorbar([o["mean"]], [y - 0.12], xerr=[[o["mean"] - o["ci_low"]], [o["ci_high"] - o["mean"]]],
                        fmt="o", color="#246", label="records: share and 95% CI" if y == 0 else None)
    ax.set_yticks(range(len(rows)), [n for n, _ in rows])
    ax.invert_yaxis()
    ax.set_xlabel("share of officer responses with video during the response")
    ax.legend(fontsize=7, loc="lower right")
    return _png(fig)


def backtest_rows(bt: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [("overall", bt)] + [(f"call type {t}", v) for t, v in bt["by_call_type"].items()] + \
        [(f"priority {p}", v) for p, v in bt["by_priority"].items()]


def backtest_sentences(bt: dict[str, Any]) -> list[str]:
    """Where the model is outside the record, in plain words (or that it is nowhere)."""
    rows = backtest_rows(bt)
    compared = [r for r in rows if r[1]["verdict"] != "not compared"]
    out = []
    for name, v in rows:
        if v["verdict"].startswith("outside"):
            o, p = v["with_video"]["observed"], v["with_video"]["predicted"]
            out.append(f"Outside the record, {name}: {v['verdict'].removeprefix('outside: ')} (records {ci(o)}, "
                       f"model {ci(p)}).")
    if not out:
        out.append(f"The model is inside the record on every figure compared ({len(compared)} of {len(rows)}).")
    return out


def backtest_page(bt: dict[str, Any]) -> str:
    rows = backtest_rows(bt)
    table = "".join(
        f"<tr class='{'outside' if v['verdict'].startswith('outside') else 'inside'}'>{text_cell(name)}"
        f"<td>{ci(v['with_video']['observed'])}</td><td>{v['with_video']['observed']['n']:,}</td>"
        f"<td>{ci(v['with_video']['predicted'])}</td><td>{html.escape(v['verdict'])}</td></tr>" for name, v in rows)
    rec = bt["records"]
    body = ("".join(f"<p><b>{html.escape(s)}</b></p>" for s in backtest_sentences(bt))
            + f"<p class='note'>{html.escape(bt['scenario'])} over the records' {rec['hours']:,} hours "
            f"({html.escape(rec['cad'])}), {bt['reps']} replications from seed {bt['seed']}. Observable: "
            f"{html.escape(bt['observable'])}. Records: {html.escape(bt['intervals']['observed'])}; model: "
            f"{html.escape(bt['intervals']['predicted'])}. One figure in twenty falls outside by chance.</p>"
            "<table><tr><th>figure</th><th>records</th><th>responses</th><th>model</th><th>verdict</th></tr>"
            + table + "</table>" + _interval_plot(rows))
    return _page("Backtest", body)
