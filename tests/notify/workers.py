"""Real worker processes (``flask --app app notify worker``) on the test's database, and SMTP
peers that misbehave on purpose.

:class:`WorkerProcess` starts the worker with ``PULLFIRST_*`` settings taken from the test's
app config, so it shares the test's database and instance folder, and keeps its console in a
log file that failures print.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from tests.conftest import CONTENT, REPO
from tests.helpers import SMTPSink, _Collector

PASSED_ON = (
    "DATABASE_URL",
    "MAIL_URL",
    "SECRET_KEY",
    "CONTENT_DIR",
    "STICKERS_DIR",
    "BASE_URL",
    "WEBHOOK_ALLOW_LOOPBACK",
)


def unscheduled_content(folder: Path) -> Path:
    """A copy of the tests' content whose scopes promise no particular days or hours. Worker
    processes run on the real clock, not the test's, so the tests that start them use it:
    the demo newsletter would otherwise wait for Friday 08:00-18:00, as it promises."""
    target = folder / "unscheduled-content"
    shutil.copytree(CONTENT, target)
    scopes = target / "scopes.toml"
    lines = scopes.read_text(encoding="utf-8").splitlines(keepends=True)
    scopes.write_text(
        "".join(line for line in lines if not line.startswith(("days =", "send_window ="))),
        encoding="utf-8",
    )
    return target


def worker_env(app_config: Mapping[str, Any], instance: Path, **settings: object) -> dict[str, str]:
    """The environment of a worker process: nobody's PULLFIRST_* but the test's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PULLFIRST_") and k != "DATABASE_URL"
    }
    env["PULLFIRST_INSTANCE_PATH"] = str(instance)
    env["PULLFIRST_LOG_LEVEL"] = "WARNING"
    for name in PASSED_ON:
        if name in app_config:
            env[f"PULLFIRST_{name}"] = str(app_config[name])
    for name, value in settings.items():
        env[f"PULLFIRST_{name}"] = str(value)
    return env


class WorkerProcess:
    """One ``flask notify worker`` process."""

    def __init__(self, env: Mapping[str, str], log: Path, *options: str) -> None:
        self.log = log
        with log.open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "app", "notify", "worker", *options],
                cwd=REPO,
                env=dict(env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> int:
        """SIGKILL: the worker gets no chance to record what it was doing."""
        self.process.send_signal(signal.SIGKILL)
        return self.process.wait(timeout=30)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, then the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def console(self) -> str:
        return self.log.read_text(errors="replace")

    def ensure_stopped(self) -> None:
        if self.alive():
            self.process.kill()
            self.process.wait(timeout=30)


def wait_until(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    workers: Sequence[WorkerProcess] = (),
    interval: float = 0.05,
) -> None:
    """Poll ``condition`` until it holds; fail with the workers' consoles after ``timeout``
    seconds or when a worker died on its own."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        for worker in workers:
            if not worker.alive():
                raise AssertionError(
                    f"a worker exited while waiting for {what}:\n" + worker.console()
                )
        time.sleep(interval)
    consoles = "\n".join(worker.console() for worker in workers)
    raise AssertionError(f"timed out waiting for {what}\n{consoles}")


def _serve(sink: SMTPSink, handler: _Collector, port: int | None = None) -> None:
    """Give ``sink`` another handler (and port), closing the event loop of the unused one."""
    sink.controller.loop.close()
    sink.port = port or sink.port
    sink.controller = Controller(handler, hostname="127.0.0.1", port=sink.port)


def sink_on(port: int) -> SMTPSink:
    """A started :class:`SMTPSink` on ``port`` (an SMTP server coming back where it was)."""
    sink = SMTPSink()
    _serve(sink, _Collector(sink), port)
    sink.start()
    return sink


class _Refusing(_Collector):
    """Answers DATA with ``451`` while ``refuse()`` says so, and remembers each Message-ID it
    saw, refused or not."""

    def __init__(self, sink: RefusingSink) -> None:
        super().__init__(sink)
        self.refusing = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email.parser import BytesHeaderParser

        headers = BytesHeaderParser().parsebytes(envelope.content)
        with self.refusing.lock:
            self.refusing.seen.append(str(headers["Message-ID"]))
            if self.refusing.refuse():
                return "451 4.3.0 try again later"
        return await super().handle_DATA(server, session, envelope)


class RefusingSink(SMTPSink):
    """An SMTP server that refuses the first ``refusals`` messages with a temporary error."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.seen: list[str] = []
        self.refusals = refusals
        _serve(self, _Refusing(self))

    def refuse(self) -> bool:
        if self.refusals > 0:
            self.refusals -= 1
            return True
        return False


class _UnknownUser(_Collector):
    """Refuses RCPT for the addresses in ``sink.gone`` with ``550 5.1.1``, as a mail server
    does for a mailbox that does not exist."""

    def __init__(self, sink: UnknownUserSink) -> None:
        super().__init__(sink)
        self.gone = sink.gone

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.gone:
            return "550 5.1.1 user unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class UnknownUserSink(SMTPSink):
    """An SMTP server on which the addresses in ``gone`` do not exist."""

    def __init__(self, gone: set[str]) -> None:
        super().__init__()
        self.gone = gone
        _serve(self, _UnknownUser(self))


class _Holding(_Collector):
    def __init__(self, sink: HoldingSink) -> None:
        super().__init__(sink)
        self.holding = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        with self.holding.lock:
            self.holding.started += 1
            hold = self.holding.started == self.holding.hold_at
        if hold:
            self.holding.arrived.set()
            while not self.holding.release.is_set():
                await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


class HoldingSink(SMTPSink):
    """An SMTP server that keeps the ``hold_at``-th message waiting for its reply until the
    test sets ``release``, so a test can act while a worker is in the middle of a send."""

    def __init__(self, hold_at: int) -> None:
        super().__init__()
        self.hold_at = hold_at
        self.started = 0
        self.arrived = threading.Event()
        self.release = threading.Event()
        _serve(self, _Holding(self))


def email_channel(app: Any) -> Any:
    """The app's email channel on its ``MAIL_URL``, as the worker builds it for a batch."""
    from app.mail.transport import transport_for
    from app.notify.email import EmailChannel

    return EmailChannel(
        transport_for(app.config["MAIL_URL"], app.instance_path), app.config["MAIL_FROM"]
    )
