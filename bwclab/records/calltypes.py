"""A department's call types as the scenario's (`--types MAP.yaml`): `DEPARTMENT TYPE: scenario_type`, and
optionally `"*": scenario_type` for every type not listed. Without a map a record's type must be one of the
scenario's own; a type neither names is refused."""

from __future__ import annotations

from pathlib import Path

from bwclab.core.config import ConfigError, quote, read_yaml
from bwclab.records import shipped

OTHERWISE = "*"


class TypeMap:
    """Department type -> scenario type, checked against the scenario's types when loaded."""

    def __init__(self, scenario_types: list[str], mapping: dict[str, str] | None = None,
                 source: Path | None = None) -> None:
        self.scenario_types = scenario_types
        self.mapping = dict(mapping or {})
        self.otherwise = self.mapping.pop(OTHERWISE, None)
        self.source = source
        self._known = set(scenario_types)

    def scenario_type(self, department_type: str) -> str | None:
        """The scenario's type for a department's, or None when neither the map nor the scenario knows it."""
        t = department_type.strip()
        got = self.mapping.get(t)
        if got is not None:
            return got
        if t in self._known:
            return t
        return self.otherwise

    def hint(self) -> str:
        known = ", ".join(self.scenario_types)
        if self.source is None:
            return f"not one of the scenario's call types ({known}); map it with --types MAP.yaml"
        return f"neither in {self.source} nor one of the scenario's call types ({known})"


def load_types(text: str | None, scenario_types: list[str]) -> TypeMap:
    if text is None:
        return TypeMap(scenario_types)
    path = shipped.resolve("types-", text, "type map")
    data = read_yaml(path)
    if not isinstance(data, dict) or not data:
        raise ConfigError(path, ["(top level): expected a mapping of department call type to scenario call type"])
    mapping: dict[str, str] = {}
    problems = []
    for key, value in data.items():
        name = "" if key is None else str(key).strip()
        if not isinstance(value, str) or value not in scenario_types:
            problems.append(f"{quote(name)}: maps to {quote(value)}, not one of the scenario's call types "
                            f"({', '.join(scenario_types)})")
            continue
        mapping[name] = value
    if problems:
        raise ConfigError(path, problems[:20])
    return TypeMap(scenario_types, mapping, path)
