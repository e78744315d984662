"""Built-in scenarios, bench files and requirement specs, shipped as package data: `--scenario
hartford-patrol-shift`, `--bench emulated` and `--requirements quick` name them; a path names a file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from bwclab.core.config import ConfigError

Kind = Literal["scenario", "bench", "spec", "profile"]
_WHERE: dict[str, tuple[str, str]] = {
    "scenario": ("scenarios", ""),
    "bench": ("fixtures", ""),
    "spec": ("fixtures", "requirements"),
    "profile": ("fixtures", "profiles"),
}


def data_root() -> Path:
    """Where `scenarios/` and `fixtures/` are: inside the installed package (a wheel), else the checkout's top."""
    package = Path(str(resources.files("bwclab")))
    return package if (package / "scenarios").is_dir() else package.parent


def _folder(kind: Kind) -> Path:
    folder, sub = _WHERE[kind]
    root = data_root() / folder
    return root / sub if sub else root


def names(kind: Kind) -> list[str]:
    """The built-in names of a kind, sorted."""
    return sorted(p.stem for p in _folder(kind).glob("*.yaml"))


def builtin(kind: Kind, name: str) -> Path:
    path = _folder(kind) / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(name, [f"no built-in {kind} of that name (built-in: {', '.join(names(kind))})"])
    return path


def resolve(kind: Kind, text: str | Path) -> Path:
    """A path when `text` names a file (or looks like one), else the built-in of that name."""
    path = Path(text)
    if path.exists() or path.suffix in (".yaml", ".yml", ".json") or len(path.parts) > 1:
        return path
    return builtin(kind, str(text))
