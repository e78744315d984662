"""Read a YAML file into a pydantic model, with errors that name the file, the field and what was expected.

The one loader every package uses. It refuses what a careless or hostile file could do to a run:
files over 1 MB, duplicate keys (YAML's "last one wins" would hide a typo), aliases that expand past
200,000 values (an alias bomb), nesting deeper than the parser can follow. Error messages quote at
most 200 characters of a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

MAX_BYTES = 1_000_000
MAX_VALUES = 200_000  # scalars, lists and mappings after alias expansion
QUOTE_CHARS = 200


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


def quote(value: Any) -> str:
    """repr() of a value, cut to QUOTE_CHARS characters."""
    text = repr(value)
    if len(text) <= QUOTE_CHARS:
        return text
    return f"{text[:QUOTE_CHARS]}... ({len(text):,} characters)"


def describe_errors(err: ValidationError, prefix: str = "") -> list[str]:
    out = []
    for e in err.errors():
        where = ".".join(str(part) for part in e["loc"])
        where = ".".join(p for p in (prefix, where) if p) or "(top level)"
        got = e.get("input")
        shown = "" if isinstance(got, Mapping) or e["type"] == "missing" else f" (got {quote(got)})"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown field: check its spelling"
        out.append(f"{where}: {msg}{shown}")
    return out


class _Loader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a key given twice in one mapping (merge keys excepted)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                raise yaml.constructor.ConstructorError(None, None, "a mapping key must be a plain value",
                                                        key_node.start_mark) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {quote(key)} appears twice in one mapping", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """How many values the document holds once every alias is expanded (memoised, so a bomb is cheap)."""
    size: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in size:
            continue
        if isinstance(node, yaml.ScalarNode):
            size[id(node)] = 1
            continue
        kids: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            kids = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            kids = [n for pair in node.value for n in pair]
        if children_done:
            size[id(node)] = min(1 + sum(size.get(id(k), 0) for k in kids), limit + 1)
            continue
        stack.append((node, True))
        stack.extend((k, False) for k in kids if id(k) not in size)
    return size[id(root)]


def parse_yaml(text: str, source: Path | str) -> Any:
    """Parse YAML text with the project's limits; ConfigError naming `source` on any problem."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, MAX_VALUES) > MAX_VALUES:
            raise ConfigError(source, [f"(top level): the document expands to more than {MAX_VALUES:,} values "
                                       "(aliases repeated into a huge document are refused)"])
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [f"{where}not valid YAML ({problem})"]) from None
    except RecursionError:
        raise ConfigError(source, ["(top level): nested too deeply to read"]) from None
    finally:
        loader.dispose()


def read_yaml(path: Path) -> Any:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ConfigError(path, [f"file is {size:,} bytes; configuration files are at most {MAX_BYTES:,}"])
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, ["file not found"]) from None
    except IsADirectoryError:
        raise ConfigError(path, ["is a folder, expected a YAML file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [f"cannot be read: {exc}"]) from None
    return parse_yaml(text, path)


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
            raise ConfigError(path, [f"--set {quote(item)}: expected key=value"])
        try:
            value = parse_yaml(raw, f"--set {key}")
        except ConfigError:
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
