"""The maps shipped in fixtures/records/ (`columns-seattle.yaml`, `types-sample.yaml`), named on the command line
by what follows the prefix: `--columns seattle`."""

from __future__ import annotations

from pathlib import Path

from bwclab.core.builtin import data_root
from bwclab.core.config import ConfigError


def names(prefix: str) -> list[str]:
    folder = data_root() / "fixtures" / "records"
    return sorted(p.stem.removeprefix(prefix) for p in folder.glob(f"{prefix}*.yaml"))


def resolve(prefix: str, text: str, what: str) -> Path:
    """A path when `text` names a file (or looks like one), else the shipped map of that name."""
    path = Path(text)
    if path.exists() or path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        return path
    shipped = data_root() / "fixtures" / "records" / f"{prefix}{text}.yaml"
    if not shipped.is_file():
        raise ConfigError(text, [f"no such file, and no shipped {what} of that name (shipped: "
                                 f"{', '.join(names(prefix)) or 'none'})"])
    return shipped
