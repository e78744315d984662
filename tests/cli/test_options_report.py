"""`bwclab sim compare --options`: a department's options over the same shifts, in one self-contained report.html
(rendered in headless Chromium as a reader sees it) and compare.json; a bad options file refused naming the
file and the field."""

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bwclab.cli import app
from bwclab.sim.options_report import options_page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SHORT = "shift.duration_h: 1"  # a scaled-down Hartford: one hour of its evening shift

OPTIONS = f"""
scenario: {ROOT / "scenarios" / "hartford-patrol-shift.yaml"}
reps: 3
seed: 11
costs: {{per_camera_per_year: 600, storage_per_tb_per_year: 250}}
options:
  - name: manual only
    variant: manual-only
    set: {{{SHORT}}}
  - name: light bar
    variant: light-bar
    set: {{{SHORT}}}
    costs: {{per_trigger_unit: 150}}
  - name: "=vehicle triggers, 60 s buffer"
    variant: vehicle-triggers
    profile: example
    set: {{camera.buffer_s: 60, {SHORT}}}
"""


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(dom: str) -> str:
    parser = _Text()
    parser.feed(dom)
    return " ".join(" ".join(parser.parts).split())


def chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("BWCLAB_NO_BROWSER") == "1":
        pytest.skip("BWCLAB_NO_BROWSER=1: the report is not rendered in a browser")
    pytest.fail(f"{CHROMIUM} is missing: install chromium (apt-get install chromium) or set BWCLAB_NO_BROWSER=1")


def browse(page: Path, tmp: Path, *what: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / "chromium-profile"
    profile.mkdir(exist_ok=True)
    cmd = [str(chromium()), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", *what, page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("options")
    options = tmp / "options.yaml"
    options.write_text(OPTIONS)
    out = tmp / "run"
    r = subprocess.run([sys.executable, "-m", "bwclab", "sim", "compare", "--options", str(options), "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr
    return out, json.loads((out / "compare.json").read_text())


def test_every_option_sees_the_same_shifts(report):
    _, result = report
    opts = result["options"]
    assert list(opts) == ["manual only", "light bar", "=vehicle triggers, 60 s buffer"]
    per_shift = {json.dumps(o["incidents_per_shift"]) for o in opts.values()}
    assert len(per_shift) == 1  # common random numbers: the same incidents under every option
    assert opts["=vehicle triggers, 60 s buffer"]["buffer_s"] == 60
    assert opts["=vehicle triggers, 60 s buffer"]["device"]["model"] == "Example-BWC"


def test_triggers_capture_more_than_manual_starts_and_the_difference_is_paired(report):
    _, result = report
    diff = result["differences"]["=vehicle triggers, 60 s buffer"]
    assert diff["from"] == "manual only"
    assert diff["capture_rate"]["ci_low"] > 0
    a = result["options"]["manual only"]["figures"]["capture_rate"]["mean"]
    b = result["options"]["=vehicle triggers, 60 s buffer"]["figures"]["capture_rate"]["mean"]
    assert diff["capture_rate"]["mean"] == pytest.approx(b - a, abs=1e-5)
    year = diff["per_year"]["captured_incidents"]
    assert result["scaling"]["shifts_a_year"] == 8760
    assert year["ci_low"] < year["mean"] < year["ci_high"]
    assert year["mean"] > 0  # more incidents captured a year, not only a higher share


def test_costs_combine_the_shared_and_the_options_own(report):
    _, result = report
    light = result["options"]["light bar"]["costs"]
    manual = result["options"]["manual only"]["costs"]
    assert light["per_year"]["cameras"] == 600 * 37
    assert light["per_year"]["trigger_units"] == 150 * light["trigger_units"] > 0
    # no trigger unit costs nothing, priced or not; a fielded trigger with no price leaves the total incomplete
    assert manual["trigger_units"] == 0 and manual["per_year"]["trigger_units"] == 0 and manual["complete"]
    vehicle = result["options"]["=vehicle triggers, 60 s buffer"]["costs"]
    assert vehicle["trigger_units"] > 0 and vehicle["per_year"]["trigger_units"] is None and not vehicle["complete"]


def test_the_report_renders_every_option_with_use_of_force_and_paired_differences(report, tmp_path):
    out, result = report
    page = out / "report.html"
    dom = browse(page, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr
    text = visible_text(dom.stdout)
    for name in result["options"]:
        assert name in text
    assert "uses of force captured" in text
    uof = result["options"]["light bar"]["figures"]["use_of_force_capture_rate"]
    shown = "no use of force in these shifts" if uof["mean"] is None else f"{uof['mean']:.3f}"
    assert shown in text
    assert "Difference from the first option" in text
    for diff in result["differences"].values():
        c = diff["capture_rate"]
        assert f"{c['mean']:+.3f} (95% CI {c['ci_low']:+.3f} to {c['ci_high']:+.3f})" in text
    assert "shifts, each like the one simulated" in text  # the year's scaling, stated as an assumption
    assert "'=vehicle triggers, 60 s buffer" in text  # a cell that begins with = is shown as text


def test_the_report_screenshot_is_not_blank(report, tmp_path):
    from PIL import Image, ImageStat

    out, _ = report
    png = tmp_path / "report.png"
    shot = browse(out / "report.html", tmp_path, f"--screenshot={png}", "--window-size=1280,2400")
    assert shot.returncode == 0, shot.stderr
    with Image.open(png) as img:
        assert img.size == (1280, 2400)
        variance = ImageStat.Stat(img.convert("L")).var[0]
    assert variance > 100  # a blank page is one colour: variance 0


def test_the_report_fetches_nothing_and_runs_nothing(report):
    out, _ = report
    page = (out / "report.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", page, re.IGNORECASE)
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower() and "url(" not in page.lower() and "@import" not in page.lower()


def test_a_figure_not_in_the_results_reads_not_measured(report):
    _, result = report
    for o in result["options"].values():
        del o["figures"]["use_of_force_capture_rate"]
        o.pop("fixes", None)
        o["officer_spread"] = None
    text = visible_text(options_page(result))
    assert re.search(r"uses of force captured (not measured ){3}", text)
    assert "What would have fixed them, one change at a time: not measured" in text


def run_bad(tmp_path, text, *extra):
    options = tmp_path / "bad-options.yaml"
    options.write_text(text)
    r = CliRunner().invoke(app, ["sim", "compare", "--options", str(options), "--out", str(tmp_path / "o"), *extra],
                           env={"COLUMNS": "300"})
    return r, str(options)


GOOD_HEAD = f"scenario: {ROOT / 'scenarios' / 'hartford-patrol-shift.yaml'}\nreps: 2\n"


@pytest.mark.parametrize(("body", "field", "expected"), [
    ("colour: red\noptions: [{name: a}, {name: b}]\n", "colour", "unknown field"),
    ("options: [{name: a}, {name: b, budget: 3}]\n", "options.1.budget", "unknown field"),
    ("options: [{name: a}, {variant: light-bar}]\n", "options.1.name", "Field required"),
    ("options: [{name: a}, {name: a, variant: light-bar}]\n", "options.1.name", "names options 0 and 1"),
    ("options: [{name: a}, {name: b, variant: all-the-triggers}]\n", "options.1.variant", "expected one of"),
    ("options: [{name: a}, {name: b, profile: no-such-profile}]\n", "options.1.profile", "no built-in profile"),
    ("options: [{name: a}, {name: b, profile: missing/profile.yaml}]\n", "options.1.profile", "file not found"),
    ("options: [{name: a}, {name: b, set: {camera.buffer_s: 500}}]\n", "options.1 (b)", "camera.buffer_s"),
    ("options: [{name: a}]\n", "options", "at least 2"),
    ("options: [{name: a}, {name: b, costs: {per_camera_per_year: -1}}]\n", "options.1.costs.per_camera_per_year",
     "greater than or equal to 0"),
])
def test_a_bad_options_file_is_refused_naming_the_file_and_the_field(tmp_path, body, field, expected):
    r, path = run_bad(tmp_path, GOOD_HEAD + body)
    assert r.exit_code == 2, r.output
    assert path in r.stderr
    line = next((x for x in r.stderr.splitlines() if x.strip().startswith(f"- {field}")), "")
    assert expected in line, r.stderr
    assert "Traceback" not in r.output
    assert not (tmp_path / "o").exists()


def test_a_missing_scenario_is_refused_naming_the_options_field(tmp_path):
    r, path = run_bad(tmp_path, "scenario: nowhere/scenario.yaml\noptions: [{name: a}, {name: b}]\n")
    assert r.exit_code == 2
    assert path in r.stderr and "scenario: nowhere/scenario.yaml: file not found" in r.stderr


def test_options_with_profiles_on_the_command_line_are_refused(tmp_path):
    r, _ = run_bad(tmp_path, GOOD_HEAD + "options: [{name: a}, {name: b}]\n", "--profile", "example")
    assert r.exit_code == 2
    assert "--options" in r.stderr and "not here" in r.stderr


def test_the_shipped_example_is_valid_and_names_its_costs_as_assumptions():
    from bwclab.sim.options import prepare

    example = ROOT / "fixtures" / "options" / "hartford-options.yaml"
    spec, _, prepared = prepare(example)
    assert [p.name for p in prepared] == ["manual only", "light bar", "vehicle triggers, 60 s buffer"]
    assert prepared[2].scenario.camera.buffer_s == 60 and prepared[2].profile is not None
    assert prepared[1].costs.per_trigger_unit == 150 and prepared[1].costs.per_camera_per_year == 600
    text = example.read_text()
    assert spec.reps >= 2
    assert all("assumption" in line for line in text.splitlines() if re.search(r"per_\w+:", line))
