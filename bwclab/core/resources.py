"""`resources.json`: where an emulated bench's devices are, written by the emulator when it is ready and
read by the rig, as a lab writes a real bench's ports into its bench file.

The file names the emulator's pid and a session token; a reader checks the pid is alive before
trusting anything in it (a file left by a killed emulator names ports that are gone).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from bwclab.core.config import ConfigError, describe_errors
from bwclab.core.strict import Strict

RESOURCES_FORMAT = 1


class SerialPort(Strict):
    port: str


class Endpoint(Strict):
    host: str
    port: int
    resource: str


class CameraPorts(Strict):
    console: str | None = None
    dock: str


class Resources(Strict):
    format: Literal[1] = 1
    pid: int
    session: str
    gpio: dict[str, SerialPort]
    instruments: dict[str, Endpoint]
    cameras: dict[str, CameraPorts]
    truth_log: str

    def alive(self) -> bool:
        """The emulator that wrote this file is still running."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def write_resources(path: Path, res: Resources) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(res.model_dump_json(indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_resources(path: Path) -> Resources:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Resources.model_validate(data)
    except FileNotFoundError:
        raise ConfigError(path, ["file not found: the emulated bench has not published its ports"]) from None
    except (OSError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            raise ConfigError(path, describe_errors(exc)) from None
        raise ConfigError(path, [f"cannot be read: {exc}"]) from None
