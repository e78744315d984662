"""What `sim calibrate` and `sim backtest` print: the headline fits, and plainly where the model is outside the
record. The department's text is printed as text, never as console markup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bwclab.records.pages import backtest_rows, backtest_sentences, ci


def show_calibration(console: Console, cal: dict[str, Any], out: Path) -> None:
    rec = cal["records"]
    p = rec["period"]
    t = Table(title=Text(f"calibrated from {Path(rec['cad']).name}: {p['first_call']} to {p['last_call']}, "
                         f"{rec['calls']:,} calls, {rec['responses']:,} responses"))
    for col in ("call type", "share", "units", "emergency", "time on scene, min", "manual compliance"):
        t.add_column(col)
    comp = cal.get("compliance", {})
    for name, v in cal["call_types"].items():
        t.add_row(Text(name), ci(v["share"]), ci(v["units"], ".2f"), ci(v["emergency"]),
                  ci(v["time_on_scene_min"], ".1f"), ci(comp.get(name)))
    console.print(t)
    console.print(Text(f"calls per hour {ci(cal['calls_per_hour'], '.2f')}; dispatch delay "
                       f"{ci(cal['dispatch_delay_s'], '.0f')} s; travel {ci(cal['travel_s'], '.0f')} s"))
    if "triggers" in cal:
        trig = cal["triggers"]
        console.print(Text(f"triggers fielded: {', '.join(trig['fielded']) or 'none: manual-only'}; press delay "
                           f"after arrival {ci(cal['press_delay_s']['after_arrival'], '.0f')} s, en route on priority "
                           f"responses {ci(cal['press_delay_s']['en_route'])}; officers' spread (logit sd) "
                           f"{ci(cal['officer_spread_logit'], '.2f')}"))
    for which in ("cad", "audit"):
        for kind, v in (rec["odd_rows"].get(which) or {}).items():
            console.print(Text(f"odd rows ({which}): {v['rows']:,} {kind}, first at rows "
                               f"{', '.join(map(str, v['first_rows']))}"))
    console.print(Text(f"written to {out}: calibrated.yaml, calibration.json, calibration.html"))


def show_backtest(console: Console, bt: dict[str, Any], out: Path) -> None:
    t = Table(title=Text(f"{bt['scenario']}: share of officer responses with video, records against the model "
                         f"({bt['reps']} replications)"))
    for col in ("figure", "records [95% CI]", "responses", "model [95% prediction]", "verdict"):
        t.add_column(col)
    for name, v in backtest_rows(bt):
        colour = "red" if v["verdict"].startswith("outside") else "green" if v["verdict"] == "inside" else "yellow"
        t.add_row(Text(name), ci(v["with_video"]["observed"]), f"{v['with_video']['observed']['n']:,}",
                  ci(v["with_video"]["predicted"]), Text(v["verdict"], style=colour))
    console.print(t)
    for line in backtest_sentences(bt):
        console.print(Text(line))
    console.print(Text(f"written to {out}: backtest.json, backtest.html, backtest_reps.csv"))
