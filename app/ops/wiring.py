"""Binds the operator's endpoints to an app: health, readiness and metrics, with request
timing while ``METRICS_TOKEN`` is set. Wired after every area, so that the request timer is the
outermost middleware and sees every request, the ones answered from a memo included."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app import clock
from app.extensions import limiter
from app.ops import metrics
from app.ops.heartbeat import beat_ages
from app.ops.routes import blueprint


def _heartbeats() -> list[metrics.Family]:
    family = metrics.Family(
        "pullfirst_worker_heartbeat_age_seconds",
        "gauge",
        "Seconds since each notifier worker's last heartbeat.",
    )
    for worker, age in beat_ages(clock.now()).items():
        family.add(round(age, 3), worker=worker)
    return [family]


def init_app(app: Flask) -> None:
    ops = blueprint()
    limiter.exempt(ops)  # probes and scrapes are never rate limited
    app.register_blueprint(ops)
    metrics.register_collector(app, "worker heartbeats", _heartbeats)
    if app.config["METRICS_TOKEN"]:
        latency = metrics.RequestLatency(Path(app.instance_path) / "metrics")
        metrics.REQUEST_LATENCY.set(app, latency)
        app.wsgi_app = metrics.RequestTimer(  # type: ignore[method-assign]
            app.wsgi_app, latency, metrics.endpoint_namer(app.url_map)
        )
