"""An aiosmtpd sink in its own process for the notifier benchmarks (not a benchmark itself).

``python bench/_smtp_sink.py PORT [--save FILE]`` accepts every message on 127.0.0.1:PORT,
prints ``ready`` once it listens, and with ``--save`` appends each message to FILE as
``<length>\\n<bytes>`` so a baseline can send the very same bytes again. It runs until it is
terminated. :func:`start_sink` and :func:`read_saved` are the benchmarks' side of it.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _Saver:
    def __init__(self, path: Path | None) -> None:
        self.out = path.open("ab") if path is not None else None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.out is not None:
            content = envelope.content
            self.out.write(b"%d\n" % len(content) + content)
            self.out.flush()  # readers follow the file while the sink runs
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--save", type=Path, default=None)
    args = parser.parse_args()
    handler = _Saver(args.save)
    controller = Controller(handler, hostname="127.0.0.1", port=args.port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()
    if handler.out is not None:
        handler.out.close()


def start_sink(port: int, save: Path | None = None) -> subprocess.Popen[str]:
    """Start the sink on ``port`` and return once it listens."""
    command = [sys.executable, __file__, str(port)]
    if save is not None:
        command += ["--save", str(save)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise SystemExit("the SMTP sink did not start")
    return process


def read_saved(path: Path) -> list[bytes]:
    """The messages a sink saved, in the order it received them."""
    data, messages, at = path.read_bytes(), [], 0
    while at < len(data):
        end = data.index(b"\n", at)
        size = int(data[at:end])
        messages.append(data[end + 1 : end + 1 + size])
        at = end + 1 + size
    return messages


if __name__ == "__main__":
    main()
