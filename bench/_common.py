"""Helpers shared by the benchmark scripts (not a benchmark itself)."""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def unscheduled_content(folder: Path) -> Path:
    """A copy of the demo content whose scopes promise no particular days or hours, for runs
    that send a campaign whenever they happen to run (the gate would otherwise hold the demo
    newsletter for Friday 08:00-18:00, as it promises). Returns the new content folder."""
    import shutil

    target = folder / "content"
    shutil.copytree(REPO / "content", target)
    scopes = target / "scopes.toml"
    lines = scopes.read_text(encoding="utf-8").splitlines(keepends=True)
    scopes.write_text(
        "".join(line for line in lines if not line.startswith(("days =", "send_window ="))),
        encoding="utf-8",
    )
    return target


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 0.5):6.2f} ms  p95 {percentile(values, 0.95):6.2f} ms  "
        f"p99 {percentile(values, 0.99):6.2f} ms  mean {statistics.fmean(values):6.2f} ms"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    url: str, timeout: float = 60.0, process: subprocess.Popen[bytes] | None = None
) -> float:
    """Seconds until ``url`` answers 200."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            if process is not None and process.poll() is not None:
                raise SystemExit(f"the server exited while starting: {url}") from None
        time.sleep(0.02)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def app_env(content: Path, instance: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULLFIRST_")}
    env.update(
        PULLFIRST_CONTENT_DIR=str(content),
        PULLFIRST_INSTANCE_PATH=str(instance),
        PULLFIRST_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


def wrk(
    url: str,
    seconds: int = 10,
    connections: int = 32,
    threads: int = 2,
    headers: dict[str, str] | None = None,
) -> float:
    """Requests per second measured by wrk against ``url``."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    for line in output.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise SystemExit("wrk printed no figure:\n" + output)


@contextmanager
def scratch_app(database: str | None) -> Iterator[tuple[Flask, Path]]:
    """The app in a scratch instance folder (also yielded), on ``database`` or a SQLite file
    there, with no sticker packs; on exit its connections close and the folder goes."""
    from app import create_app
    from app.extensions import db

    folder = Path(tempfile.mkdtemp(prefix="pullfirst-bench-"))
    os.environ["PULLFIRST_INSTANCE_PATH"] = str(folder)
    try:
        app = create_app(
            {
                "DATABASE_URL": database or f"sqlite:///{folder / 'bench.db'}",
                "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789abcdef",
                "STICKERS_DIR": str(folder / "no-stickers"),
            }
        )
        try:
            yield app, folder
        finally:
            with app.app_context():
                db.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
