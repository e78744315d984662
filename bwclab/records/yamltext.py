"""YAML written with comments on its lines (PyYAML writes none): mappings in block style, lists and small
mappings in flow style, strings quoted unless plainly safe. A comment never carries a line break, whatever a
department's export held: text from the records goes into comments JSON-escaped (ASCII only), since YAML also
breaks lines at U+0085, U+2028 and U+2029."""

from __future__ import annotations

import json
import math
import re
from typing import Any

PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_. /-]*$")
KEYWORDS = {"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"}


def safe_text(value: str) -> str:
    """A department's text, fit for a comment: JSON-escaped, ASCII only."""
    return json.dumps(value, ensure_ascii=True)


def _comment(text: str) -> str:
    return "".join(c if " " <= c <= "~" else "?" for c in text)


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value}")
        return repr(value)
    text = str(value)
    if PLAIN.match(text) and text.lower() not in KEYWORDS and not text.endswith(" "):
        return text
    return json.dumps(text, ensure_ascii=True)


def flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def _small(value: Any) -> bool:
    return isinstance(value, dict) and all(not isinstance(v, dict | list) for v in value.values())


def dump(data: dict[str, Any], comments: dict[str, str], notes: dict[str, list[str]], path: str = "",
         indent: int = 0) -> list[str]:
    """Lines of YAML for `data`; `comments[dotted.path]` goes at the end of that key's line, `notes[dotted.path]`
    as comment lines just above it (a mapping with a comment on one of its keys is written in block style)."""
    pad = " " * indent
    lines: list[str] = []
    for key, value in data.items():
        where = f"{path}.{key}" if path else str(key)
        lines += [f"{pad}# {_comment(n)}" for n in notes.get(where, [])]
        tail = f"  # {_comment(comments[where])}" if where in comments else ""
        block = not (_small(value) and indent > 0) or any(c.startswith(where + ".") for c in comments)
        if isinstance(value, dict) and value and block:
            lines.append(f"{pad}{scalar(key)}:{tail}")
            lines += dump(value, comments, notes, where, indent + 2)
        else:
            lines.append(f"{pad}{scalar(key)}: {flow(value)}{tail}")
    return lines
