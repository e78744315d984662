"""The documents point only at what the repository holds: every relative link, and every repository path in
inline code (`bwclab/sim/model.py`, `fixtures/demo.yaml`, `python -m benchmarks.sensitivity`), in README.md
and docs/, names a file or folder inside this checkout. Fenced examples are left alone: they show a lab's own
files (`--bench fixtures/lab.yaml`) as well as ours."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
TOPS = {"bwclab", "tests", "docs", "fixtures", "scenarios", "benchmarks", ".ci", "README.md", "LICENSE",
        "pyproject.toml", "setup.py", "tox.ini", "run.py"}  # results/ is where runs are written: it names outputs
INSTALLED = {"bwclab/scenarios": "scenarios", "bwclab/fixtures": "fixtures"}  # the wheel's names (setup.py)
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCED = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
CODE = re.compile(r"`([^`\n]+)`")
PLACEHOLDER = re.compile(r"[<>*{}$|\[\]]|\.\.\.|YYYY|NNN")


def links(text: str) -> list[str]:
    """Relative link targets, without their #anchor (web links and in-page anchors left out)."""
    targets = (m.group(1).split("#")[0] for m in LINK.finditer(text))
    return [t for t in targets if t and not re.match(r"[A-Za-z][\w+.-]*:", t)]


def code_paths(text: str) -> list[str]:
    """Words in inline code that name a repository path: a file or folder under one of its top-level entries, a
    path that climbs out of the document's folder (`../`), or the module of `python -m`."""
    out = []
    for span in CODE.findall(FENCED.sub("", text)):
        words = span.split()
        for before, word in zip(["", *words], words, strict=False):
            word = re.sub(r":\d+$", "", word.lstrip("'\"(").rstrip("'\"(),;:."))
            for installed, source in INSTALLED.items():
                if word == installed or word.startswith(installed + "/"):
                    word = source + word[len(installed):]
            if not word or PLACEHOLDER.search(word):
                continue
            if before == "-m" and re.fullmatch(r"[\w.]+", word) and word.split(".")[0] in TOPS:
                out.append(word.replace(".", "/") + ".py")
            elif word.startswith("../") or ("/" in word and word.split("/")[0] in TOPS):
                out.append(word)
    return out


def exists_in_checkout(doc: Path, target: str, relative_to_doc: bool) -> bool:
    base = doc.parent if relative_to_doc or target.startswith("../") else ROOT
    path = (base / target).resolve()
    module = path.with_suffix("") / "__init__.py" if path.suffix == ".py" else path
    return path.is_relative_to(ROOT) and (path.exists() or module.exists())


def test_links_and_code_paths_are_found() -> None:
    text = ("See [the bench](bench.md#wiring) and [site](https://example.org), `bwclab/sim/model.py:12`, "
            "`python -m benchmarks.sensitivity`, `bwclab sim shift --scenario scenarios/traffic-stop.yaml`, "
            "`../shared/NOTES.md`, `<serial>/profile.yaml`, `results/demo/`, `1/speed`, `bwclab/fixtures/demo.yaml`.\n"
            "```\nbwclab rig certify --bench fixtures/lab.yaml --out RUN\n```")
    assert links(text) == ["bench.md"]
    assert code_paths(text) == ["bwclab/sim/model.py", "benchmarks/sensitivity.py", "scenarios/traffic-stop.yaml",
                                "../shared/NOTES.md", "fixtures/demo.yaml"]
    assert not exists_in_checkout(ROOT / "docs" / "model.md", "../shared/NOTES.md", relative_to_doc=False)
    assert not exists_in_checkout(ROOT / "README.md", "..", relative_to_doc=True)  # there, but outside the checkout


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(ROOT)) for d in DOCS])
def test_every_relative_link_and_repository_path_exists(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    missing = [t for t in links(text) if not exists_in_checkout(doc, t, relative_to_doc=True)]
    missing += [t for t in code_paths(text) if not exists_in_checkout(doc, t, relative_to_doc=False)]
    assert missing == []
