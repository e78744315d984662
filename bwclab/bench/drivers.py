"""The drivers a bench file can name. Each role's `driver:` is a name in the `bwclab.drivers` entry-point group,
where bwclab registers its own drivers and a lab's distribution adds its (docs/drivers.md).

A driver declares the interfaces it provides (`provides = (PathLossSetter,)`, bwclab/rig/interfaces.py) and is
opened the one way its role says. A name is refused when the bench file is read: nothing installed under it, two
distributions claiming it, a module that does not import, a class lacking an interface its role needs, or one
that cannot be opened the way its role is. The bench sits below the rig, so it knows the interfaces by name.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

GROUP = "bwclab.drivers"
INTERFACES = "bwclab.rig.interfaces"


@dataclass(frozen=True)
class Role:
    """What a bench needs of one kind of device: the interfaces, and how the station opens the driver."""

    what: str
    interfaces: tuple[str, ...]
    default: str
    args: tuple[str, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def call(self) -> str:
        """How the station opens a driver for this role, as docs/drivers.md writes it."""
        return "cls(" + ", ".join([*self.args, *(f"{k}=..." for k in self.kwargs)]) + ")"


ROLES: dict[str, Role] = {
    "gpio": Role("a GPIO adapter", ("DigitalOutput", "EdgeReporter"), "numato", ("port",),
                 {"outputs": [0], "inputs": [1], "ports": 32}),
    "attenuator": Role("an attenuator", ("PathLossSetter",), "rcdat", ("resource",), {"step_db": 0.25}),
    "scope": Role("a scope", ("DelayMeter",), "infiniivision", ("resource",)),
    "psu": Role("a supply", ("PowerSwitch",), "e36300", ("resource",)),
    "console": Role("a camera console", ("ConsoleLink",), "console", ("port",)),
}


@functools.cache
def installed() -> dict[str, tuple[EntryPoint, ...]]:
    """Every name registered in the group, with each distribution that registers it (read once per process)."""
    found: dict[str, tuple[EntryPoint, ...]] = {}
    for ep in entry_points(group=GROUP):
        found[ep.name] = (*found.get(ep.name, ()), ep)
    return found


def _origin(ep: EntryPoint) -> str:
    return f"{ep.value} from {ep.dist.name}" if ep.dist is not None else ep.value


def _provided(cls: Any) -> set[str]:
    return {f"{getattr(p, '__module__', '?')}.{getattr(p, '__qualname__', '?')}" for p in getattr(cls, "provides", ())}


def misfit(role: Role, cls: Any) -> str | None:
    """Why `cls` cannot fill `role`, or None when it can."""
    missing = [n for n in role.interfaces if f"{INTERFACES}.{n}" not in _provided(cls)]
    if missing:
        has = sorted(p.rsplit(".", 1)[1] for p in _provided(cls))
        return (f"does not provide {' and '.join(missing)}, which {role.what} needs "
                f"(it declares provides = ({', '.join(has)}))")
    try:
        inspect.signature(cls).bind(*role.args, **role.kwargs)
    except (TypeError, ValueError) as exc:
        return f"cannot be opened as {role.what} is, {role.call} ({exc})"
    return None


def _load(name: str) -> Any:
    """The object registered as `name`; ValueError saying why there is none."""
    eps = installed().get(name, ())
    if not eps:
        raise ValueError(f"no driver named {name!r} is installed")
    if len(eps) > 1:
        raise ValueError(f"driver {name!r} is registered twice ({'; '.join(_origin(ep) for ep in eps)}): "
                         "uninstall one of them")
    try:
        return eps[0].load()
    except Exception as exc:  # a lab's module may fail to import in any way: the bench file is then refused
        raise ValueError(f"driver {name!r} ({_origin(eps[0])}) cannot be imported "
                         f"({type(exc).__name__}: {exc})") from None


def fitting(role: str) -> list[str]:
    """The installed names that can fill `role`, sorted."""
    out = []
    for name in sorted(installed()):
        try:
            cls = _load(name)
        except ValueError:
            continue
        if misfit(ROLES[role], cls) is None:
            out.append(name)
    return out


def driver_class(role: str, name: str) -> type[Any]:
    """The class registered as `name`, checked to fill `role`; ValueError saying why not and what would."""
    r = ROLES[role]
    try:
        cls = _load(name)
    except ValueError as exc:
        raise ValueError(f"{exc}; drivers for {r.what}: {', '.join(fitting(role)) or 'none installed'}") from None
    why = misfit(r, cls) if isinstance(cls, type) else f"is {type(cls).__name__}, not a class"
    if why is not None or not isinstance(cls, type):
        raise ValueError(f"driver {name!r} {why}; drivers for {r.what}: {', '.join(fitting(role)) or 'none'}")
    return cls
