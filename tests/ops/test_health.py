"""``/healthz`` answers without the database; ``/readyz`` says which check fails: the database,
the migrations or the notifier worker's heartbeat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.database import migrate
from app.extensions import db
from app.ops.health import readiness
from tests.conftest import Clock


@pytest.fixture
def unreachable(
    app_config: dict[str, Any],
    tmp_path: Path,
    clean_environment: None,
    monkeypatch: pytest.MonkeyPatch,
) -> FlaskClient:
    """A client of a site whose database cannot be opened (a SQLite file below a file)."""
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("PULLFIRST_INSTANCE_PATH", str(tmp_path / "instance"))
    broken = create_app(
        {**app_config, "DATABASE_URL": f"sqlite:///{tmp_path / 'a-file' / 'no.db'}"}
    )
    return broken.test_client()


def _worker_tick(app: Flask) -> None:
    from app.notify.worker import Worker

    with app.app_context():
        Worker(name="test-host:1:abc").tick(force=True)


def test_healthz_answers_without_touching_the_database(unreachable: FlaskClient) -> None:
    response = unreachable.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "alive"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_names_the_database_when_it_cannot_be_reached(unreachable: FlaskClient) -> None:
    response = unreachable.get("/readyz")
    assert response.status_code == 503
    body = response.json
    assert body is not None and body["status"] == "unready" and body["failed"] == ["database"]
    assert body["checks"]["database"] == {"status": "fail", "detail": "cannot connect"}
    assert body["checks"]["migrations"]["status"] == "skip"
    assert "a-file" not in response.get_data(as_text=True)  # no address leaks out


def test_readyz_waits_for_a_worker_heartbeat_and_fails_when_it_goes_stale(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json is not None
    assert response.json["failed"] == ["worker"]
    assert response.json["checks"]["worker"]["detail"] == "no notifier worker has reported yet"
    assert response.json["checks"]["migrations"] == {
        "status": "pass",
        "detail": f"at {migrate.head_revision()}",
    }

    _worker_tick(app)
    clock.advance(seconds=299)
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json == {
        "status": "ready",
        "failed": [],
        "checks": {
            "database": {"status": "pass", "detail": "answers"},
            "migrations": {"status": "pass", "detail": f"at {migrate.head_revision()}"},
            "worker": {"status": "pass", "detail": "newest heartbeat 299 s ago"},
        },
    }

    clock.advance(seconds=2)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json is not None
    assert response.json["checks"]["worker"] == {
        "status": "fail",
        "detail": "newest heartbeat 301 s ago, more than 300 s",
    }


@pytest.fixture
def worker_check_off(app_config: dict[str, Any]) -> None:
    app_config["READY_WORKER_MAX_AGE"] = 0


def test_the_worker_check_can_be_left_out(worker_check_off: None, client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json is not None and response.json["checks"]["worker"] == {
        "status": "skip",
        "detail": "READY_WORKER_MAX_AGE is 0",
    }


def test_readiness_fails_on_a_schema_behind_the_code(app: Flask, clock: Clock) -> None:
    with app.app_context():
        result = readiness(db.engine, "9999", clock(), 0)
    assert not result.ready and result.failed == ["migrations"]
    assert (
        result.checks["migrations"].detail
        == f"at revision {migrate.head_revision()}, this code needs 9999"
    )
    assert result.checks["worker"].status == "skip"


def test_each_beat_keeps_one_row_per_worker_and_forgets_workers_gone_a_day(
    app: Flask, clock: Clock
) -> None:
    from app.ops.heartbeat import beat, beat_ages, newest_beat

    with app.app_context():
        beat("old", clock())
        clock.advance(hours=23)
        beat("new", clock())
        beat("new", clock())
        db.session.commit()
        assert beat_ages(clock()) == {"new": 0.0, "old": 23 * 3600.0}
        clock.advance(hours=2)
        beat("new", clock())
        db.session.commit()
        assert beat_ages(clock()) == {"new": 0.0}
        assert newest_beat() == clock()
