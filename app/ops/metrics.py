"""Metrics in the Prometheus text format (version 0.0.4).

Two sources:

- **request latency**, a histogram by endpoint. Each web process counts its own requests and,
  at most every :data:`SHARE_SECONDS`, writes its counts to ``instance/metrics/<pid>.json``;
  whichever process answers ``/metrics`` adds up its own counts and those of the other live
  processes of the host. A process that ended takes its counts with it (Prometheus's ``rate``
  reads that as a counter reset). Requests are timed only while ``METRICS_TOKEN`` is set.
- **collectors**, functions an area registers with :func:`register_collector` that read the
  database at scrape time (the outbox, the deliveries, the workers' heartbeats).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from flask import Flask
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect
from werkzeug.wsgi import ClosingIterator

from app.registry import Registry, Slot

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SHARE_SECONDS = 5.0
LATENCY = "pullfirst_request_duration_seconds"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Kind = Literal["gauge", "counter", "histogram"]
Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Sample:
    name: str
    labels: Labels
    value: float


@dataclass
class Family:
    """One metric: its name, type, help line and samples (full names, with any suffix)."""

    name: str
    kind: Kind
    help: str
    samples: list[Sample] = field(default_factory=list)

    def add(self, value: float, suffix: str = "", **labels: str) -> None:
        self.samples.append(Sample(self.name + suffix, tuple(labels.items()), value))


Collector = Callable[[], Iterable[Family]]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render(families: Iterable[Family]) -> str:
    """The exposition text of ``families``."""
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {family.help}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for sample in family.samples:
            labels = ",".join(f'{k}="{_escape(v)}"' for k, v in sample.labels)
            lines.append(
                f"{sample.name}{{{labels}}} {_number(sample.value)}"
                if labels
                else f"{sample.name} {_number(sample.value)}"
            )
    return "\n".join(lines) + "\n"


# --- request latency --------------------------------------------------------------------------

Counts = dict[str, list[float]]  # endpoint -> one count per bucket, +Inf, then the sum


class RequestLatency:
    """This process's latency histogram, shared with the host's other processes by files."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._counts: Counts = {}
        self._lock = threading.Lock()
        self._shared_at = 0.0

    def observe(self, endpoint: str, seconds: float) -> None:
        with self._lock:
            row = self._counts.setdefault(endpoint, [0.0] * (len(BUCKETS) + 2))
            for index, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    row[index] += 1
            row[-2] += 1
            row[-1] += seconds
            due = time.monotonic() - self._shared_at >= SHARE_SECONDS
        if due:
            self.share()

    def snapshot(self) -> Counts:
        with self._lock:
            return {endpoint: list(row) for endpoint, row in self._counts.items()}

    def share(self) -> None:
        """Write this process's counts for the others to read (atomically, by rename)."""
        self._shared_at = time.monotonic()
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.folder / f"{os.getpid()}.json"
            partial = target.with_suffix(".partial")
            partial.write_text(json.dumps(self.snapshot()))
            os.replace(partial, target)
        except OSError:
            pass  # metrics must never fail a request; the next share tries again

    def combined(self) -> Counts:
        """This process's counts plus those of the host's other live processes."""
        total = self.snapshot()
        for path in sorted(self.folder.glob("*.json")) if self.folder else ():
            if path.stem == str(os.getpid()) or not path.stem.isdigit():
                continue
            if not _alive(int(path.stem)):
                path.unlink(missing_ok=True)
                continue
            try:
                theirs: Counts = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            for endpoint, row in theirs.items():
                mine = total.setdefault(endpoint, [0.0] * (len(BUCKETS) + 2))
                if len(row) == len(mine):
                    total[endpoint] = [a + b for a, b in zip(mine, row, strict=True)]
        return total

    def family(self) -> Family:
        family = Family(LATENCY, "histogram", "Time to answer a request, by endpoint.")
        for endpoint, row in sorted(self.combined().items()):
            for bound, count in zip(BUCKETS, row, strict=False):
                family.add(count, "_bucket", endpoint=endpoint, le=_number(bound))
            family.add(row[-2], "_bucket", endpoint=endpoint, le="+Inf")
            family.add(row[-1], "_sum", endpoint=endpoint)
            family.add(row[-2], "_count", endpoint=endpoint)
        return family


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def endpoint_namer(url_map: Map) -> Callable[[str, str], str]:
    """Name the endpoint of (method, path) the way Flask would route it; unknown paths are
    named by what happened, so probes for random URLs add no new label values."""

    @lru_cache(maxsize=4096)
    def name(method: str, path: str) -> str:
        adapter = url_map.bind("localhost")
        try:
            rule, _ = adapter.match(path, method, return_rule=True)
        except NotFound:
            return "not_found"
        except MethodNotAllowed:
            return "method_not_allowed"
        except RequestRedirect:
            return "redirect"
        except HTTPException:
            return "other"
        return str(rule.endpoint)

    return name


class RequestTimer:
    """WSGI middleware: time each request until its body is closed, by endpoint."""

    def __init__(
        self, app: WSGIApplication, latency: RequestLatency, name: Callable[[str, str], str]
    ) -> None:
        self.app, self.latency, self.name = app, latency, name

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()

        def done() -> None:
            path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
            method = environ.get("REQUEST_METHOD", "GET")
            self.latency.observe(
                self.name("GET" if method == "HEAD" else method, path),
                time.perf_counter() - started,
            )

        try:
            body = self.app(environ, start_response)
        except BaseException:
            done()
            raise
        return ClosingIterator(body, [done])


# --- collectors -------------------------------------------------------------------------------


REQUEST_LATENCY = Slot[RequestLatency](
    "metrics",
    "this process's request latency (only while METRICS_TOKEN is set)",
    set_by="app.ops.wiring.init_app",
)

COLLECTORS = Registry[Collector](
    "metric_collectors", "metric families that `/metrics` reads at scrape time"
)


def register_collector(app: Flask, name: str, collector: Collector) -> None:
    """Add ``collector`` to what ``/metrics`` reports; it runs in the scrape's app context.
    ``name`` says what it counts (``outbox``)."""
    COLLECTORS.add(app, name, collector)


def collectors(app: Flask) -> list[Collector]:
    return COLLECTORS.items(app)
