"""Read a YAML file into a pydantic model, with errors that name the file, the field and what was expected.

The one loader every package uses. It refuses what a careless or hostile file could do to a run:
anything but a regular file (a FIFO would block, /dev/zero never ends), more than 1 MB (read through a
bounded read, whatever stat() says), duplicate keys (YAML's "last one wins" would hide a typo), aliases
that expand past 200,000 values (an alias bomb), nesting deeper than the parser can follow, integers
longer than Python converts (4,300 digits) and any other value YAML cannot build. Error messages quote
at most 200 characters of a value.
"""

from __future__ import annotations

import os
import stat
import sys
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
        msg = e["msg"]
        said = isinstance(got, Mapping) or e["type"] == "missing" or "(got " in msg  # the message names it already
        shown = "" if said else f" (got {quote(got)})"
        if e["type"] == "extra_forbidden":
            msg = "unknown field: check its spelling"
        out.append(f"{where}: {msg}{shown}")
    return out


class _NotYaml(ConfigError):
    """The text is not YAML at all (as opposed to YAML with a value that cannot be built)."""


class _BadValue(Exception):
    """A scalar YAML cannot build (an integer past Python's limit, a 13th month): which node, and why."""

    def __init__(self, node: yaml.Node, why: str) -> None:
        super().__init__(why)
        self.node, self.why = node, why


class _Loader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a key given twice in one mapping (merge keys excepted), and reports a
    value it cannot build by its node, so that the error can name the field."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:
            raise _BadValue(node, str(exc)) from None

    def construct_int(self, node: yaml.ScalarNode) -> int:
        limit = sys.get_int_max_str_digits()
        digits = sum(c.isdigit() for c in str(node.value))
        if limit and digits > limit:
            raise ValueError(f"an integer of {digits:,} digits; expected a number of at most {limit:,} digits")
        return int(self.construct_yaml_int(node))

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


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_int)


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


def _field_of(root: yaml.Node, target: yaml.Node, top: str) -> str:
    """The dotted field (`camera.buffer_s`, `incidents.2.at_s`) where `target` first appears under `root`."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, str]] = [(root, top)]
    while stack:
        node, where = stack.pop()
        if node is target:
            return where or "(top level)"
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((kid, ".".join(p for p in (where, str(i)) if p)) for i, kid in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
                stack.append((key, ".".join(p for p in (where, "(a key)") if p)))
                stack.append((value, ".".join(p for p in (where, name) if p)))
    return top or "(top level)"


def parse_yaml(text: str, source: Path | str, field: str = "") -> Any:
    """Parse YAML text with the project's limits; ConfigError naming `source` (and the field, prefixed by
    `field`) on any problem."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, MAX_VALUES) > MAX_VALUES:
            raise ConfigError(source, [f"{field or '(top level)'}: the document expands to more than "
                                       f"{MAX_VALUES:,} values (aliases repeated into a huge document are refused)"])
        try:
            return loader.construct_document(node)
        except _BadValue as bad:
            raise ConfigError(source, [f"{_field_of(node, bad.node, field)}: {bad.why}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise _NotYaml(source, [f"{field + ': ' if field else ''}{where}not valid YAML ({problem})"]) from None
    except RecursionError:
        raise ConfigError(source, [f"{field or '(top level)'}: nested too deeply to read"]) from None
    except (ValueError, OverflowError) as exc:  # built outside any one value (a merge key, say)
        raise ConfigError(source, [f"{field or '(top level)'}: {exc}"]) from None
    finally:
        loader.dispose()


_NOT_A_FILE = ((stat.S_ISDIR, "is a folder"), (stat.S_ISFIFO, "is a named pipe (FIFO)"),
               (stat.S_ISCHR, "is a character device"), (stat.S_ISBLK, "is a block device"),
               (stat.S_ISSOCK, "is a socket"))


def _refuse_unless_regular(path: Path | str, mode: int) -> None:
    for test, what in _NOT_A_FILE:
        if test(mode):
            raise ConfigError(path, [f"{what}, expected a YAML file"])
    if not stat.S_ISREG(mode):
        raise ConfigError(path, ["is not a regular file, expected a YAML file"])


def _too_big(path: Path | str, size: str) -> ConfigError:
    return ConfigError(path, [f"file is {size} bytes; configuration files are at most {MAX_BYTES:,}"])


def read_bounded(path: Path) -> bytes:
    """A regular file's bytes, never more than MAX_BYTES whatever stat() says. A FIFO, a device or a socket is
    refused before it is opened, and again after (O_NONBLOCK: opening a FIFO cannot block), in case the path
    was swapped in between."""
    try:
        info = os.stat(path)
        _refuse_unless_regular(path, info.st_mode)
        if info.st_size > MAX_BYTES:
            raise _too_big(path, f"{info.st_size:,}")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
        try:
            _refuse_unless_regular(path, os.fstat(fd).st_mode)
            chunks: list[bytes] = []
            left = MAX_BYTES + 1
            while left > 0 and (chunk := os.read(fd, left)):
                chunks.append(chunk)
                left -= len(chunk)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise ConfigError(path, ["file not found"]) from None
    except OSError as exc:
        raise ConfigError(path, [f"cannot be read: {exc.strerror or exc}"]) from None
    if left <= 0:
        raise _too_big(path, f"more than {MAX_BYTES:,}")  # it grew after stat()
    return b"".join(chunks)


def read_yaml(path: Path) -> Any:
    try:
        text = read_bounded(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(path, [f"cannot be read: not UTF-8 text ({exc.reason} at byte {exc.start:,})"]) from None
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
    """Apply `dotted.key=value` overrides; values are parsed as YAML scalars or lists (text that is not YAML
    is taken as a string; a value YAML cannot build is refused)."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(path, [f"--set {quote(item)}: expected key=value"])
        try:
            value = parse_yaml(raw, path, field=f"--set {key.strip()}")
        except _NotYaml:
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
