"""The clip renderer's worker process: one clip job a line (JSON) on stdin, one result a line on stdout.

It exits when stdin closes (the emulator is gone), and the kernel kills it should the emulator die
first (parent-death signal): no worker outlives its bench. Ctrl-C is the emulator's to handle.
"""

from __future__ import annotations

import json
import signal
import sys

from bwclab.emulator.clips import ClipJob, render
from bwclab.emulator.lifeline import die_with_parent


def main() -> int:
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import av  # noqa: F401  (warm the codecs before the first clip)
    import zxingcpp  # noqa: F401

    for line in sys.stdin:
        job_id, data = json.loads(line)
        try:
            reply = [job_id, render(ClipJob(**data)), None]
        except Exception as exc:  # a failed render is reported for that clip; the worker goes on
            reply = [job_id, None, f"{type(exc).__name__}: {exc}"]
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
