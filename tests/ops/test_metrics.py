"""``/metrics``: off without a token, closed without the right one, and in the Prometheus text
format: request latency by endpoint (added up across the host's processes), the outbox's depth,
deliveries by channel and state, and the workers' heartbeat ages."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.ops.metrics import Family, RequestLatency, render
from tests.conftest import Clock

TOKEN = "metrics-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def metrics_on(app_config: dict[str, Any]) -> None:
    app_config["METRICS_TOKEN"] = TOKEN


def _value(text: str, sample: str) -> float:
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    assert match, f"{sample} not in:\n{text}"
    return float(match.group(1))


def test_metrics_answer_404_without_a_token_setting(client: FlaskClient) -> None:
    assert client.get("/metrics", headers=AUTH).status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-0123456789", f"Basic {TOKEN}", TOKEN])
def test_metrics_need_the_bearer_token(
    metrics_on: None, client: FlaskClient, header: str | None
) -> None:
    response = client.get("/metrics", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert "pullfirst_" not in response.get_data(as_text=True)


def _delivery_rows(app: Flask, clock: Clock) -> None:
    from app.accounts import members
    from app.notify.models import Campaign, Delivery

    with app.app_context():
        people = [
            members.create_member(f"m{n}@example.com", None, now=clock(), verified=True)
            for n in range(3)
        ]
        campaign = Campaign(
            title="T",
            body="B",
            scope="newsletter",
            kind="editorial",
            channels="email,inbox",
            state="sending",
            created_at=clock(),
            updated_at=clock(),
        )
        db.session.add(campaign)
        db.session.flush()
        for person, (channel, state) in zip(
            people * 2,
            [
                ("email", "queued"),
                ("email", "queued"),
                ("email", "sent"),
                ("inbox", "retry"),
                ("inbox", "sent"),
                ("inbox", "sent"),
            ],
            strict=True,
        ):
            db.session.add(
                Delivery(
                    campaign_id=campaign.id,
                    member_id=person.id,
                    channel=channel,
                    state=state,
                    due_at=clock(),
                    created_at=clock(),
                )
            )
        db.session.commit()


def test_metrics_report_latency_outbox_deliveries_and_heartbeats(
    metrics_on: None, app: Flask, client: FlaskClient, clock: Clock
) -> None:
    from app.ops.heartbeat import beat

    _delivery_rows(app, clock)
    with app.app_context():
        beat("host-a:12:abc", clock() - timedelta(seconds=42))
        db.session.commit()
    for _ in range(3):
        # A request is timed until the server closes its body, as every WSGI server does.
        client.get("/healthz").close()
    client.post("/healthz").close()
    response = client.get("/metrics", headers=AUTH)
    response.close()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)

    assert "# TYPE pullfirst_request_duration_seconds histogram" in text
    count = 'pullfirst_request_duration_seconds_count{endpoint="ops.healthz"}'
    assert _value(text, count) == 3
    assert (
        _value(text, 'pullfirst_request_duration_seconds_bucket{endpoint="ops.healthz",le="+Inf"}')
        == 3
    )
    assert (
        _value(text, 'pullfirst_request_duration_seconds_bucket{endpoint="ops.healthz",le="10"}')
        == 3
    )
    assert (
        _value(text, 'pullfirst_request_duration_seconds_count{endpoint="method_not_allowed"}') == 1
    )

    assert _value(text, 'pullfirst_outbox_depth{state="queued"}') == 2
    assert _value(text, 'pullfirst_outbox_depth{state="retry"}') == 1
    assert _value(text, 'pullfirst_outbox_depth{state="leased"}') == 0
    assert _value(text, 'pullfirst_deliveries{channel="email",state="sent"}') == 1
    assert _value(text, 'pullfirst_deliveries{channel="inbox",state="sent"}') == 2
    assert _value(text, 'pullfirst_worker_heartbeat_age_seconds{worker="host-a:12:abc"}') == 42

    again = client.get("/metrics", headers=AUTH).get_data(as_text=True)
    assert _value(again, count) == 3  # scrapes of /metrics are counted under their own name
    assert (
        _value(again, 'pullfirst_request_duration_seconds_count{endpoint="ops.metrics_page"}') == 1
    )


def test_latency_is_added_up_across_the_hosts_live_processes(tmp_path: Path) -> None:
    latency = RequestLatency(tmp_path)
    latency.observe("site.article", 0.02)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        theirs = {"site.article": [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.008]}
        (tmp_path / f"{live.pid}.json").write_text(json.dumps(theirs))
        gone = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        dead = tmp_path / f"{gone.stdout.strip()}.json"
        dead.write_text(json.dumps(theirs))
        combined = latency.combined()["site.article"]
    finally:
        live.kill()
        live.wait()
    assert combined[-2] == 2 and combined[-1] == pytest.approx(0.028)
    assert combined[:3] == [0, 1, 2]  # <=5 ms: none; <=10 ms: theirs; <=25 ms: both
    assert not dead.exists()  # a process that ended takes its counts with it
    latency.share()
    assert json.loads((tmp_path / f"{os.getpid()}.json").read_text())["site.article"][-2] == 1


def test_label_values_are_escaped() -> None:
    family = Family("pullfirst_x", "gauge", "Help.")
    family.add(1.5, worker='a"b\\c\nd')
    assert render([family]) == (
        "# HELP pullfirst_x Help.\n# TYPE pullfirst_x gauge\n"
        'pullfirst_x{worker="a\\"b\\\\c\\nd"} 1.5\n'
    )
