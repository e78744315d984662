"""report.html of a department's options: one self-contained page (no script, nothing fetched, the plot inline
as SVG), in plain words: each option's figures with 95% CIs side by side, each one's paired difference from the
first, what that means in incidents a year, storage and cost, what would fix the misses left, per call type,
over officers, the devices, and the assumptions.

Every text from a file (option names, call types, device names) is escaped, and a cell that begins with =, +, -,
@ (or a tab or carriage return) is shown with a leading apostrophe and as text to a spreadsheet, as the records'
pages do (bwclab/records/pages.py)."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from bwclab.core.triggers import TRIGGER_KINDS

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#eee}.better{background:#dfd}.worse{background:#fdd}.note{color:#555}"""

FIGURES = {
    "capture_rate": "captured on every present officer's camera",
    "use_of_force_capture_rate": "uses of force captured",
    "in_frame_rate": "captured and in frame",
    "any_camera_rate": "seen by any camera (dash cameras included)",
    "audio_capture_rate": "with audio",
}
CAUSES = {
    "not_triggered": "nothing started the camera, and no one was expected to start it by hand",
    "not_pressed": "the officer was expected to start the camera by hand and did not",
    "pressed_late": "the officer started the camera by hand, too late for the moment",
    "buffer_too_short": "a trigger started the camera after the moment, and its pre-event buffer did not reach back",
    "out_of_range": "a trigger broadcast, but never within reach of the officer's camera",
    "not_discovered": "the camera was within reach of a broadcast but did not hear it before it ended",
    "arrived_after_broadcast": "every broadcast had ended before the officer arrived",
    "camera_asleep": "the camera was asleep when it mattered",
    "out_of_frame": "the camera was recording, but the subject was out of its view or the view was blocked",
}
TRIGGER_WORDS = {"light_bar": "the light bar", "taser": "the taser", "holster": "a holster sensor",
                 "door": "the cruiser's door", "siren": "the siren", "speed": "the cruiser's speed",
                 "crash": "a crash sensor"}


def fix_sentence(key: str) -> str:
    """What a `fixes` key stands for, in plain words."""
    if key.startswith("buffer_") and key.endswith("_s"):
        return f"a pre-event buffer of {key[7:-2]} s"
    if key.startswith("r50_") and key.endswith("_ft"):
        return f"triggers that reach further: heard by half the cameras at {key[4:-3]} ft"
    if key.startswith("trigger_") and key[8:] in TRIGGER_KINDS:
        return f"adding {TRIGGER_WORDS[key[8:]]} as a trigger"
    if key == "full_compliance":
        return "every officer starting the camera by hand as policy says"
    return key.replace("_", " ")


def text_cell(value: object, tag: str = "td") -> str:
    """A cell of text from a file: escaped, and never a formula."""
    text = str(value)
    if text.startswith(FORMULA_START):
        return f"<{tag} style='mso-number-format:\"\\@\"'>'{html.escape(text)}</{tag}>"
    return f"<{tag}>{html.escape(text)}</{tag}>"


def ci(x: dict[str, Any] | None, fmt: str = ".3f", missing: str = "n/a") -> str:
    if not x or x.get("mean") is None:
        return missing
    if x.get("ci_low") is None:
        return format(x["mean"], fmt)
    return f"{x['mean']:{fmt}} (95% CI {x['ci_low']:{fmt}} to {x['ci_high']:{fmt}})"


def _figure_cell(figures: dict[str, Any], key: str, reps: int) -> str:
    if key not in figures:
        return "<td>not measured</td>"
    x = figures[key]
    none = "no use of force in these shifts" if key == "use_of_force_capture_rate" else "n/a"
    some = f" (from the {x['n']} of {reps} shifts that had one)" if x.get("mean") is not None and x["n"] < reps else ""
    return f"<td>{html.escape(ci(x, '.3f', none) + some)}</td>"


def _head(names: list[str], first: str) -> str:
    return "<tr>" + text_cell(first, "th") + "".join(text_cell(n, "th") for n in names) + "</tr>"


def _side_by_side(r: dict[str, Any]) -> str:
    names = list(r["options"])
    rows = [_head(names, "share of incidents with an officer present at the critical moment")]
    for key, words in FIGURES.items():
        rows.append(f"<tr><td>{html.escape(words)}</td>"
                    + "".join(_figure_cell(r["options"][n]["figures"], key, r["reps"]) for n in names) + "</tr>")
    rows.append("<tr><td>incidents a shift with an officer present at the moment</td>" + "".join(
        f"<td>{html.escape(ci(r['options'][n]['incidents_per_shift'], '.1f'))}</td>" for n in names) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _differences(r: dict[str, Any]) -> str:
    if not r["differences"]:
        return ""
    first = next(iter(r["options"]))
    rows = [_head(list(r["differences"]), f"difference from {first} (same shifts, paired)")]
    for key, words in FIGURES.items():
        cells = []
        for d in r["differences"].values():
            x = d.get(key)
            if x is None:
                cells.append("<td>not measured</td>")
                continue
            cls = "" if x.get("ci_low") is None else " class='better'" if x["ci_low"] > 0 else \
                " class='worse'" if x["ci_high"] < 0 else ""
            cells.append(f"<td{cls}>{html.escape(ci(x, '+.3f'))}</td>")
        rows.append(f"<tr><td>{html.escape(words)}</td>{''.join(cells)}</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _per_year(r: dict[str, Any]) -> str:
    sc = r["scaling"]
    out = [f"<p class='note'>Assumption: {html.escape(sc['assumption'])}. A year's figure is the shift's paired "
           "difference times the shifts in a year, with its 95% CI scaled the same way.</p><ul>"]
    for name, d in r["differences"].items():
        inc, force = d["per_year"]["captured_incidents"], d["per_year"]["captured_uses_of_force"]
        out.append(f"<li>{html.escape(name)} against {html.escape(d['from'])}: "
                   f"{html.escape(_more(inc, 'incidents'))} a year; uses of force: "
                   f"{html.escape(_more(force, 'uses of force', 'not measured'))} a year.</li>")
    return "".join(out) + "</ul>"


def _more(x: dict[str, Any], what: str, missing: str = "n/a") -> str:
    if not x or x.get("mean") is None:
        return missing
    word = "more" if x["mean"] >= 0 else "fewer"
    text = f"{abs(x['mean']):,.0f} {word} {what} captured"
    if x.get("ci_low") is None:
        return text
    return text + f" (95% CI {x['ci_low']:+,.0f} to {x['ci_high']:+,.0f})"


def _money(x: float | None) -> str:
    return "not given" if x is None else f"{x:,.0f}"


def _storage_and_cost(r: dict[str, Any]) -> str:
    names = list(r["options"])
    o = r["options"]
    rows = [_head(names, "a year")]
    rows.append("<tr><td>video written, TB a year</td>" + "".join(
        f"<td>{html.escape(ci(o[n]['figures']['storage_tb_per_year'], '.1f'))}</td>" for n in names) + "</tr>")
    rows.append("<tr><td>video held (retention), TB</td>" + "".join(
        f"<td>{html.escape(ci(o[n]['figures']['storage_tb_held'], '.1f'))}</td>" for n in names) + "</tr>")
    rows.append("<tr><td>cameras, trigger units</td>" + "".join(
        f"<td>{o[n]['costs']['cameras']:,}, {o[n]['costs']['trigger_units']:,}</td>" for n in names) + "</tr>")
    for part, words in (("cameras", "cameras"), ("storage", "storage"), ("trigger_units", "trigger units")):
        rows.append(f"<tr><td>cost of {words}</td>" + "".join(
            f"<td>{_money(o[n]['costs']['per_year'][part])}</td>" for n in names) + "</tr>")
    rows.append("<tr><td>cost, total of what was given</td>" + "".join(
        f"<td>{_money(o[n]['costs']['total_per_year'])}"
        f"{'' if o[n]['costs']['complete'] else ' (incomplete)'}</td>" for n in names) + "</tr>")
    return ("<table>" + "".join(rows) + "</table><p class='note'>Costs are the options file's figures, per year: each "
            "camera times the fleet's officers, each TB a year times the video held under the scenario's retention, "
            "each trigger unit times the cruisers when the option fields any trigger. They are assumptions unless "
            "the department has quotes.</p>")


def _fixes(r: dict[str, Any]) -> str:
    out = []
    for name, o in r["options"].items():
        missed = [(c, v) for c, v in o["missed"].items() if v.get("mean")]
        items = "".join(f"<li>{html.escape(CAUSES.get(c, c))}: {html.escape(ci(v, '.1f'))} a shift</li>"
                        for c, v in sorted(missed, key=lambda cv: -float(cv[1]["mean"])))
        fixes = o.get("fixes")
        # a trigger's reach fixes nothing where no trigger is fielded: not offered as a fix there
        offered = {k: v for k, v in (fixes or {}).items() if o.get("triggers") or not k.startswith("r50_")}
        fixed = ("".join(f"<li>{html.escape(fix_sentence(k))}: {html.escape(ci(v, '.1f'))} of them a shift</li>"
                         for k, v in offered.items()) if fixes else "<li>not measured</li>")
        out.append(f"<h3>{html.escape(name)}</h3><p>Officers present whose video missed the moment, "
                   f"by the first thing that went wrong:</p><ul>{items or '<li>none</li>'}</ul>"
                   f"<p>What would have fixed them, one change at a time:</p><ul>{fixed}</ul>")
    return "".join(out)


def _call_types(r: dict[str, Any]) -> str:
    names = list(r["options"])
    types = list(dict.fromkeys(t for n in names for t in r["options"][n]["by_call_type"]))
    rows = [_head(names, "call type: captured share")]
    for t in types:
        cells = "".join(f"<td>{html.escape(ci(r['options'][n]['by_call_type'].get(t, {}).get('capture_rate')))}</td>"
                        for n in names)
        rows.append(f"<tr>{text_cell(t.replace('_', ' '))}{cells}</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _spread(r: dict[str, Any]) -> str:
    names = list(r["options"])
    rows = [_head(names, "each officer's captured share")]
    for key, words in (("p10", "the lowest tenth of officers at or below"), ("median", "the median officer"),
                       ("p90", "the highest tenth at or above")):
        cells = []
        for n in names:
            spread = r["options"][n].get("officer_spread")
            cells.append(f"<td>{html.escape(ci(spread.get(key)) if spread else 'not measured')}</td>")
        rows.append(f"<tr><td>{html.escape(words)}</td>{''.join(cells)}</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _devices(r: dict[str, Any]) -> str:
    rows = []
    for name, o in r["options"].items():
        d = o["device"]
        if d is None:
            rows.append(f"<tr>{text_cell(name)}<td colspan='4'>the scenario's own camera settings (no certified "
                        "profile)</td></tr>")
            continue
        grade = d.get("grade", "not recorded")
        note = (" A quick look, not a procurement verdict: its certificate was indicative."
                if grade == "indicative" else "")
        rows.append(f"<tr>{text_cell(name)}{text_cell(d.get('model') or '')}{text_cell(d.get('serial') or '')}"
                    f"{text_cell(d.get('firmware') or '')}<td>{html.escape(grade + '.' + note)}</td></tr>")
    return ("<table><tr><th>option</th><th>model</th><th>serial</th><th>firmware</th><th>certificate</th></tr>"
            + "".join(rows) + "</table>")


def _assumptions(r: dict[str, Any]) -> str:
    items = [f"<li>{html.escape(r['scaling']['assumption'])}.</li>"]
    for name, o in r["options"].items():
        changes = ", ".join(f"{k} = {v}" for k, v in o["changes"].items()) or "nothing (the scenario as written)"
        dev = f"; the camera measured in {o['device']['profile']}" if o["device"] and o["device"].get("profile") else ""
        items.append(f"<li>{html.escape(name)} changes {html.escape(changes)}{html.escape(dev)}.</li>")
    return ("<ul>" + "".join(items) + "</ul><p class='note'>Every other figure is the scenario's, "
            f"{html.escape(r['scenario_file'])}: each is sourced or marked as an assumption on its line there, and "
            "the assumptions are listed with how much they move the figures in docs/model.md (Sources and "
            "assumptions).</p>")


def _svg(r: dict[str, Any]) -> str:
    """Each option's captured share (bar) and its 95% CI (whisker), as inline SVG."""
    names = list(r["options"])
    left, width, row = 260, 560, 34
    height = row * len(names) + 40
    parts = [f"<svg width='{left + width + 40}' height='{height}' "
             "role='img' aria-label='captured share by option'>"]
    for i, n in enumerate(names):
        f = r["options"][n]["figures"]["capture_rate"]
        y = 10 + i * row
        m = f["mean"] or 0.0
        parts.append(f"<text x='{left - 8}' y='{y + 18}' text-anchor='end' font-size='13'>{html.escape(n)}</text>"
                     f"<rect x='{left}' y='{y + 4}' width='{m * width:.1f}' height='20' fill='#9bc'/>")
        if f.get("ci_low") is not None:
            lo, hi = left + f["ci_low"] * width, left + f["ci_high"] * width
            parts.append(f"<line x1='{lo:.1f}' x2='{hi:.1f}' y1='{y + 14}' y2='{y + 14}' stroke='#c33' "
                         "stroke-width='2'/>")
    axis = height - 22
    parts.append(f"<line x1='{left}' x2='{left + width}' y1='{axis}' y2='{axis}' stroke='#555'/>")
    parts += [f"<text x='{left + t * width:.0f}' y='{axis + 16}' text-anchor='middle' font-size='11'>{t:.1f}</text>"
              for t in (0.0, 0.25, 0.5, 0.75, 1.0)]
    return "".join(parts) + "</svg>"


def options_page(r: dict[str, Any]) -> str:
    """The whole report.html."""
    title = f"Options for {r['scenario']}"
    intro = (f"<p>{len(r['options'])} options, each run over the same {r['reps']} simulated shifts (seed {r['seed']}: "
             "the same calls, scenes and chance events for every option), so their differences are measured on "
             "the same incidents. Every figure is a mean over the shifts with its 95% confidence interval (CI). "
             "A share is of the incidents where an officer was present at the critical moment.</p>")
    body = [intro, "<h2>Captured share, side by side</h2>", _svg(r), _side_by_side(r),
            "<h2>Difference from the first option</h2>", _differences(r),
            "<h2>What that means in a year</h2>", _per_year(r),
            "<h2>Storage and cost</h2>", _storage_and_cost(r),
            "<h2>The misses left, and what would fix them</h2>", _fixes(r),
            "<h2>By call type</h2>", _call_types(r),
            "<h2>Over officers</h2>", _spread(r),
            "<h2>Devices</h2>", _devices(r),
            "<h2>Assumptions and their sources</h2>", _assumptions(r)]
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{''.join(body)}</body></html>\n")


def write_page(path: Path, text: str) -> None:
    """Write the page whole or not at all: to a temporary file, flushed to disk, then renamed."""
    tmp = path.with_name(f".{path.name}.part")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
