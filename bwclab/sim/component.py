"""The parts of a shift as components (desmod's pattern): each declares what it connects to, the shift wires them,
and `elaborate` raises on any connection left unmade before anything runs.

A connection is declared on the class (`dispatch = Connection[Dispatcher]()`) and made by assigning it
(`patrols.dispatch = dispatcher`). Read before it is made, it raises `Unconnected`, naming the component and the
connection; once made, it is a plain attribute of the component, read at the cost of any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

T = TypeVar("T")


class Unconnected(RuntimeError):
    """A component's connection was not made (a wiring mistake in the shift, never a scenario's)."""


class Connection(Generic[T]):
    """A component's declared connection to another part of the shift (no `__set__`: once assigned, the instance's
    own attribute hides it, so reading a made connection costs nothing extra)."""

    name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> Connection[T]: ...

    @overload
    def __get__(self, obj: object, owner: type) -> T: ...

    def __get__(self, obj: object | None, owner: type) -> Connection[T] | T:
        if obj is None:
            return self
        raise Unconnected(f"{type(obj).__name__}.{self.name} is not connected")

    if TYPE_CHECKING:  # for the type checker only: assigning a connection is checked against its type

        def __set__(self, obj: object, value: T) -> None: ...


class Component:
    """A part of a shift with declared connections."""

    @classmethod
    def connections(cls) -> list[str]:
        """The connections this kind of component declares, in the order declared."""
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            names += [n for n, v in vars(klass).items() if isinstance(v, Connection) and n not in names]
        return names

    def unconnected(self) -> list[str]:
        own: dict[str, Any] = vars(self)
        return [n for n in self.connections() if n not in own]


def elaborate(components: Iterable[tuple[str, object]]) -> None:
    """Check every connection of every component (named as the shift knows it) was made; raises `Unconnected`
    listing each one that was not."""
    missing = [f"{name}.{c}" for name, part in components if isinstance(part, Component) for c in part.unconnected()]
    if missing:
        raise Unconnected(f"left unconnected: {', '.join(missing)}")
