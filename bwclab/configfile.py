"""Read a YAML file into a pydantic model, with errors that name file, field and expectation."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ConfigError(Exception):
    """A configuration file is unreadable or invalid; the message is meant for the user."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__(self.path + ": " + "; ".join(problems))

    def render(self) -> str:
        lines = [f"error: {self.path} is not valid:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


def describe_errors(err: ValidationError) -> list[str]:
    out = []
    for e in err.errors():
        where = ".".join(str(part) for part in e["loc"]) or "(top level)"
        got = e.get("input")
        shown = "" if isinstance(got, Mapping) or e["type"] == "missing" else f" (got {got!r})"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown field: check its spelling"
        out.append(f"{where}: {msg}{shown}")
    return out


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [f"cannot be read: {exc}"]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(path, [f"{where}not valid YAML ({problem})"]) from None


def validate(model: type[M], data: Any, path: Path | str) -> M:
    if not isinstance(data, Mapping):
        raise ConfigError(path, ["(top level): expected a mapping of fields"])
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(path, describe_errors(err)) from None


def load(model: type[M], path: Path) -> M:
    return validate(model, read_yaml(path), path)


def apply_overrides(data: dict[str, Any], overrides: list[str], path: Path | str) -> dict[str, Any]:
    """Apply `dotted.key=value` overrides; values are parsed as YAML scalars or lists."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(path, [f"--set {item!r}: expected key=value"])
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        set_dotted(data, key.strip(), value, path)
    return data


def set_dotted(data: dict[str, Any], key: str, value: Any, path: Path | str) -> None:
    node: Any = data
    parts = key.split(".")
    for i, part in enumerate(parts[:-1]):
        nxt = node.get(part) if isinstance(node, dict) else None
        if nxt is None:
            nxt = {}
            node[part] = nxt
        if not isinstance(nxt, dict):
            where = ".".join(parts[: i + 1])
            raise ConfigError(path, [f"--set {key}: {where} is not a mapping"])
        node = nxt
    node[parts[-1]] = value
