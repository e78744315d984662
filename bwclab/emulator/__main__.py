"""`python -m bwclab.emulator --bench FILE|NAME --state-dir DIR [--faults FILE] [--watch-fd N]`: run an emulated
bench in this process until SIGTERM, Ctrl-C, or (with --watch-fd) the parent's end of a pipe closing.
The documented way for any client to start one (docs/bench.md); `bwclab bench emulate` is the same."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bwclab.bench.description import load_bench
from bwclab.core.builtin import resolve
from bwclab.core.config import ConfigError
from bwclab.emulator.server import serve


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bwclab.emulator", description=__doc__)
    ap.add_argument("--bench", required=True, help="bench description YAML, or a built-in name")
    ap.add_argument("--state-dir", required=True, type=Path, help="where resources.json, truth.jsonl and docks go")
    ap.add_argument("--faults", type=Path, default=None, help="faults YAML, per camera serial")
    ap.add_argument("--watch-fd", type=int, default=None, help="stop when this pipe reaches end of file")
    args = ap.parse_args(argv)
    try:
        path = resolve("bench", args.bench)
        serve(load_bench(path), path, args.state_dir, args.faults, args.watch_fd)
    except ConfigError as err:
        print(err.render(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
