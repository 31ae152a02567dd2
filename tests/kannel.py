"""A real Kannel for the SMS tests: Debian's ``bearerbox`` and ``smsbox`` on free loopback ports,
with Kannel's own simulated SMS centre (``fakesmsc`` from ``kannel-extras``) playing the phones.
Tests skip when one of the three programs is missing (``apt-get install kannel kannel-extras``).

What runs, all in the test's tmp dir (``<tmp>/kannel``: the configuration, each program's log and
Kannel's access logs, whose tails are attached to every failure message)::

    product ──GET sendsms──▶ smsbox ──▶ bearerbox ──smsc "phones"──▶ fakesmsc (the phones' side)
    product ◀──GET get-url── smsbox ◀── bearerbox ◀──smsc "inject"── fakesmsc (one per inject())

Two fake SMS centres, because bearerbox serves one fakesmsc connection per ``group = smsc``:

- ``phones``: one long-running fakesmsc that only listens. Every SMS sent through sendsms goes
  there (the sendsms user's ``forced-smsc``); :meth:`KannelGateway.received` and
  :meth:`~KannelGateway.wait_for` read what it printed, reassemble concatenated parts and decode
  UCS-2, so a test compares the exact text (:class:`Phonemsg`). fakesmsc prints the parts of a
  concatenated message without their data coding: they are read as GSM-7 when they decode as
  UTF-8 into GSM characters without zero bytes, else as UCS-2 (a UCS-2 text made only of
  characters whose two bytes are both printable ASCII would be misread). The fake SMS centre
  reports every message delivered, so a ``dlr-url`` is called with ``%d`` = 8 (taken by the
  SMS centre) and 1 (delivered), in either order: smsbox makes both calls at once.
- ``inject``: :meth:`KannelGateway.inject` starts a fakesmsc that sends one message (as a phone
  would: GSM-7 text as ``text``, anything else as UCS-2), waits until smsbox has called the
  inbound URL and received its answer (smsbox's access log says so), then stops it. Its
  ``allowed-smsc-id`` keeps outbound traffic away from it.

The inbound URL (the ``sms-service`` ``get-url``, catch-all, ``max-messages = 0`` so the
product's answer is never sent back as an SMS) is the caller's URL with these query parameters
appended (smsbox sets ``mo-recode = yes``, so a UCS-2 message arrives as UTF-8 too; the caller's
URL must not contain ``%``, which Kannel would read as an escape code)::

    from      the phone that sent the SMS, as the SMS centre gave it (%p), e.g. +447700900123
    to        the number it was sent to (%P), e.g. +15550100
    text      the message exactly, UTF-8 (%b: line breaks and runs of spaces kept, where %a
              would squeeze all whitespace to single spaces)
    coding    Kannel's data coding (%c): 0 text (GSM-7, or UCS-2 recoded), 1 binary, 2 UCS-2
    charset   the charset of ``text`` (%C), UTF-8 for text messages
    id        Kannel's id of the message, a UUID (%I)
    time      when the SMS centre received it, as Kannel formats it ("2026-12-05 03:16:14", %t)

Fixtures (a ``conftest.py`` imports them): ``kannel`` (a :class:`KannelGateway`, one per test)
needs ``sms_inbound_url``; the default one here points at ``inbound_recorder``, a tiny HTTP server
that records every request (tests of the product override ``sms_inbound_url`` with the app's
endpoint). :func:`start_kannel` does the same outside a fixture.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, quote, unquote_to_bytes, urlsplit

import httpx
import pytest

from app.outbound.kannel import GSM7, UCS2, is_gsm7
from tests.helpers import free_port

BEARERBOX = shutil.which("bearerbox") or "/usr/sbin/bearerbox"
SMSBOX = shutil.which("smsbox") or "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
INSTALL_HINT = "apt-get install kannel kannel-extras"

#: Appended to the caller's inbound URL; the names are the inbound endpoint's contract.
INBOUND_QUERY = "from=%p&to=%P&text=%b&coding=%c&charset=%C&id=%I&time=%t"
STARTUP_TIMEOUT = 15.0
START_ATTEMPTS = 3
LOG_TAIL_LINES = 25

#: fakesmsc prints each line bearerbox writes to it as ``… Got message N: <line>``.
GOT_LINE = re.compile(r"Got message \d+: <(?P<line>.*)>$")
#: A line of the fake SMSC protocol: ``sender receiver type payload``; concatenated parts are
#: ``sender receiver udh <url-encoded header> data <url-encoded payload>``.
PLAIN_LINE = re.compile(r"(?P<sender>\S+) (?P<to>\S+) (?P<kind>text|data|ucs-2) (?P<payload>.*)$")
UDH_LINE = re.compile(
    r"(?P<sender>\S+) (?P<to>\S+) udh (?P<udh>\S+) (?P<kind>text|data|ucs-2) (?P<payload>.*)$"
)
#: Marks an access-log line smsbox writes once the get-url has answered.
SERVICE_CALLED = "SMS HTTP-request"


def skip_reason() -> str | None:
    """Why the Kannel tests cannot run here, or None when they can."""
    missing = [path for path in (BEARERBOX, SMSBOX, FAKESMSC) if not os.access(path, os.X_OK)]
    if missing:
        return f"Kannel is not installed ({', '.join(missing)} missing): {INSTALL_HINT}"
    return None


@dataclass(frozen=True)
class Phonemsg:
    """An SMS a phone received: ``sender`` (the ``from`` Kannel sent), ``to`` (the phone),
    ``text`` (decoded), ``encoding`` (``"GSM-7"`` or ``"UCS-2"``) and ``parts`` (how many SMS of
    a concatenated message arrived)."""

    sender: str
    to: str
    text: str
    encoding: str
    parts: int


def _fake_bytes(payload: str) -> bytes:
    """Bytes from fakesmsc's URL encoding, where ``+`` stands for a space."""
    return unquote_to_bytes(payload.replace("+", "%20"))


def _decode_data(data: bytes) -> tuple[str, str]:
    """The text and encoding of a ``data`` payload, which fakesmsc prints without the data
    coding: GSM-7 text is Kannel's UTF-8, anything else UTF-16BE (UCS-2). A UTF-16BE payload of
    Latin text has zero bytes, so it never passes as GSM-7."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-16-be", errors="replace"), UCS2
    if is_gsm7(text) and b"\x00" not in data:
        return text, GSM7
    return data.decode("utf-16-be", errors="replace"), UCS2


def _concat_info(udh: bytes) -> tuple[int, int, int] | None:
    """(reference, total, sequence) from a user data header's concatenation element (8-bit or
    16-bit reference), or None when there is none."""
    position = 1  # after the header length
    while position + 1 < len(udh):
        element, length = udh[position], udh[position + 1]
        body = udh[position + 2 : position + 2 + length]
        if element == 0x00 and length == 3:
            return body[0], body[1], body[2]
        if element == 0x08 and length == 4:
            return (body[0] << 8) | body[1], body[2], body[3]
        position += 2 + length
    return None


def parse_phone_log(text: str) -> list[Phonemsg]:
    """Every SMS in a phones-side fakesmsc output, in arrival order. A ``text`` message with a
    line break reaches fakesmsc as several lines (its protocol is line-based): a line that is
    not a message of its own continues the one before. Concatenated parts are joined once all
    of them arrived."""
    messages: list[Phonemsg] = []
    pending: dict[tuple[str, str, int, int], dict[int, bytes]] = {}
    last_text: int | None = None
    for raw in text.splitlines():
        found = GOT_LINE.search(raw)
        if not found:
            continue
        line = found["line"]
        udh_line = UDH_LINE.match(line)
        plain = PLAIN_LINE.match(line) if not udh_line else None
        if udh_line:
            last_text = None
            data = _fake_bytes(udh_line["payload"])
            info = _concat_info(_fake_bytes(udh_line["udh"]))
            if info is None:
                body, encoding = _decode_data(data)
                messages.append(Phonemsg(udh_line["sender"], udh_line["to"], body, encoding, 1))
                continue
            reference, total, sequence = info
            key = (udh_line["sender"], udh_line["to"], reference, total)
            parts = pending.setdefault(key, {})
            parts[sequence] = data
            if len(parts) == total:
                del pending[key]
                joined = b"".join(parts[number] for number in sorted(parts))
                body, encoding = _decode_data(joined)
                messages.append(Phonemsg(udh_line["sender"], udh_line["to"], body, encoding, total))
        elif plain:
            kind, payload = plain["kind"], plain["payload"]
            if kind == "text":
                body, encoding = payload, GSM7
            elif kind == "ucs-2":
                body, encoding = _fake_bytes(payload).decode("utf-16-be", errors="replace"), UCS2
            else:
                body, encoding = _decode_data(_fake_bytes(payload))
            messages.append(Phonemsg(plain["sender"], plain["to"], body, encoding, 1))
            last_text = len(messages) - 1 if kind == "text" else None
        elif last_text is not None:
            previous = messages[last_text]
            messages[last_text] = Phonemsg(
                previous.sender,
                previous.to,
                f"{previous.text}\n{line}",
                previous.encoding,
                previous.parts,
            )
    return messages


def fake_line(sender: str, to: str, text: str) -> str:
    """The fakesmsc message for an SMS from ``sender`` to ``to``: GSM-7 text on one line goes as
    ``text`` (Kannel then sees 7-bit data, like from a phone), anything else as UCS-2."""
    single_line = "\n" not in text and "\r" not in text and text == text.strip(" ")
    if is_gsm7(text) and single_line and text:
        return f"{sender} {to} text {text}"
    return f"{sender} {to} ucs2 {quote(text.encode('utf-16-be'), safe='')}"


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        content = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(content[-lines:]) or "(empty)"


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _inbound_get_url(inbound_url: str) -> str:
    """The get-url for ``inbound_url``: its query, if any, is kept and ours appended. A ``%``
    would be read as a Kannel escape and a ``"`` would end the configuration string."""
    if "%" in inbound_url or '"' in inbound_url:
        raise ValueError(f'the inbound URL must not contain % or ": {inbound_url}')
    separator = "&" if urlsplit(inbound_url).query else ("" if inbound_url.endswith("?") else "?")
    return f"{inbound_url}{separator}{INBOUND_QUERY}"


class KannelGateway:
    """A running bearerbox + smsbox + phones-side fakesmsc. The product sends with
    ``sendsms_url``, ``username``, ``password`` and ``sender``; tests play the phones with
    :meth:`inject`, :meth:`received` and :meth:`wait_for`. Use :func:`start_kannel`."""

    def __init__(self, folder: Path, inbound_url: str) -> None:
        self.folder = folder
        self.inbound_url = inbound_url
        self.username = "pullfirst"
        self.password = "sendsms-secret"
        self.sender = "+15550100"
        self.admin_port = free_port()
        self.box_port = free_port()
        self.sendsms_port = free_port()
        self.smsc_port = free_port()
        self.inject_port = free_port()
        self.sendsms_url = f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"
        self._status_password = "status-secret"
        self._processes: list[tuple[str, subprocess.Popen[bytes], IO[bytes]]] = []
        self._claimed: set[int] = set()
        self._inject_lock = threading.Lock()
        self._injected = 0

    # --- files -----------------------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.folder / "kannel.conf"

    @property
    def phones_log(self) -> Path:
        return self.folder / "fakesmsc-phones.log"

    @property
    def smsbox_access_log(self) -> Path:
        return self.folder / "smsbox-access.log"

    def write_config(self) -> None:
        """kannel.conf for this gateway: everything on loopback, logs in :attr:`folder`."""
        folder = self.folder
        self.config_path.write_text(
            f"""\
group = core
admin-port = {self.admin_port}
admin-interface = 127.0.0.1
admin-password = "admin-secret"
status-password = "{self._status_password}"
smsbox-port = {self.box_port}
box-allow-ip = "127.0.0.1"
dlr-storage = internal
log-file = "{folder / "bearerbox.log"}"
log-level = 0
access-log = "{folder / "bearerbox-access.log"}"

group = smsc
smsc = fake
smsc-id = phones
port = {self.smsc_port}
connect-allow-ip = 127.0.0.1
reconnect-delay = 1

group = smsc
smsc = fake
smsc-id = inject
port = {self.inject_port}
connect-allow-ip = 127.0.0.1
allowed-smsc-id = inject
reconnect-delay = 1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.box_port}
sendsms-port = {self.sendsms_port}
sendsms-interface = 127.0.0.1
mo-recode = yes
log-file = "{folder / "smsbox.log"}"
log-level = 0
access-log = "{self.smsbox_access_log}"

group = sendsms-user
username = "{self.username}"
password = "{self.password}"
forced-smsc = phones
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = yes
max-messages = 0
get-url = "{_inbound_get_url(self.inbound_url)}"
""",
            encoding="utf-8",
        )

    def logs(self) -> str:
        """The tail of every log in :attr:`folder`, for failure messages."""
        sections = [
            f"--- {path.name} ---\n{_tail(path)}"
            for path in sorted(self.folder.glob("*.log"))
            if path.is_file()
        ]
        return "\n".join(sections)

    def fail(self, message: str) -> AssertionError:
        return AssertionError(f"{message}\nKannel logs in {self.folder}:\n{self.logs()}")

    # --- processes -------------------------------------------------------------------------

    def _spawn(
        self, name: str, args: list[str], *, stdin: int | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``args`` in a process group of its own (so :func:`_terminate` stops all of it),
        its output in ``<folder>/<name>.log``."""
        output = (self.folder / f"{name}.log").open("ab")
        try:
            process = subprocess.Popen(
                args,
                stdin=stdin if stdin is not None else subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                start_new_session=True,
            )
        except OSError:
            output.close()
            raise
        self._processes.append((name, process, output))
        return process

    def _wait(self, what: str, ready: Callable[[], bool], timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process, _output in self._processes:
                if process.poll() is not None:
                    raise self.fail(
                        f"{name} exited ({process.returncode}) while waiting for {what}"
                    )
            if ready():
                return
            time.sleep(0.05)
        raise self.fail(f"Kannel: no {what} after {timeout} s")

    def status(self) -> str:
        """bearerbox's status page (``/status.txt``), or "" when it does not answer."""
        try:
            response = httpx.get(
                f"http://127.0.0.1:{self.admin_port}/status.txt",
                params={"password": self._status_password},
                timeout=1.0,
            )
        except httpx.HTTPError:
            return ""
        return response.text if response.status_code == 200 else ""

    def _smsc_online(self, smsc_id: str) -> bool:
        return any(
            line.strip().startswith(f"{smsc_id}[") and "(online" in line
            for line in self.status().splitlines()
        )

    def start(self) -> None:
        """Start bearerbox, smsbox and the phones' fakesmsc; return once all are connected."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.write_config()
        config = str(self.config_path)
        self._spawn("bearerbox-console", [BEARERBOX, "-v", "2", config])
        self._wait("bearerbox admin page", lambda: bool(self.status()))
        self._wait("bearerbox box port", lambda: _port_open(self.box_port))
        self._spawn("smsbox-console", [SMSBOX, "-v", "2", config])
        self._wait("smsbox sendsms port", lambda: _port_open(self.sendsms_port))
        self._wait("smsbox connected to bearerbox", lambda: "smsbox:" in self.status())
        # Without messages on its command line fakesmsc reads them from stdin: an open pipe that
        # is never written keeps it listening only.
        self._spawn(
            "fakesmsc-phones",
            [FAKESMSC, "-H", "127.0.0.1", "-r", str(self.smsc_port), "-i", "1", "-m", "-1"],
            stdin=subprocess.PIPE,
        )
        self._wait("phones SMS centre online", lambda: self._smsc_online("phones"))

    def _release(self, process: subprocess.Popen[bytes]) -> None:
        """Stop one process started by :meth:`_spawn` and close its log."""
        for entry in list(self._processes):
            if entry[1] is process:
                self._processes.remove(entry)
                _terminate(process)
                entry[2].close()

    def stop(self) -> None:
        """Stop every process (fakesmsc first, bearerbox last), each with its process group.
        The logs stay in :attr:`folder`."""
        for _name, process, output in reversed(self._processes):
            _terminate(process)
            if process.stdin is not None:
                process.stdin.close()
            output.close()
        self._processes.clear()

    # --- the phones' side ------------------------------------------------------------------

    def inject(self, from_number: str, text: str, to: str | None = None) -> None:
        """A phone (``from_number``) sends ``text`` to ``to`` (the gateway's :attr:`sender` by
        default). Returns once smsbox has called the inbound URL and had its answer."""
        with self._inject_lock:
            before = self._service_calls()
            self._injected += 1
            line = fake_line(from_number, to or self.sender, text)
            process = self._spawn(
                f"fakesmsc-inject-{self._injected}",
                [
                    FAKESMSC,
                    "-H",
                    "127.0.0.1",
                    "-r",
                    str(self.inject_port),
                    "-i",
                    "0",
                    "-m",
                    "1",
                    line,
                ],
            )
            try:
                deadline = time.monotonic() + STARTUP_TIMEOUT
                while self._service_calls() <= before:
                    if time.monotonic() > deadline:
                        raise self.fail(f"smsbox did not pass on the SMS {line!r}")
                    time.sleep(0.02)
            finally:
                self._release(process)

    def _service_calls(self) -> int:
        try:
            content = self.smsbox_access_log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return 0
        return content.count(SERVICE_CALLED)

    def messages(self) -> list[Phonemsg]:
        """Every SMS the phones received so far, in arrival order."""
        try:
            content = self.phones_log.read_bytes().decode("utf-8", errors="replace")
            modified = self.phones_log.stat().st_mtime
        except OSError:
            return []
        if time.time() - modified < 0.2:
            # fakesmsc may be printing the rest of a message with a line break
            time.sleep(0.2)
            content = self.phones_log.read_bytes().decode("utf-8", errors="replace")
        return parse_phone_log(content)

    def received(self, timeout: float = 10, count: int = 1) -> list[Phonemsg]:
        """Every SMS the phones received, once there are at least ``count``."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages()
            if len(messages) >= count:
                return messages
            if time.monotonic() > deadline:
                raise self.fail(f"expected {count} SMS at the phones, got {messages}")
            time.sleep(0.05)

    def wait_for(self, to: str, timeout: float = 10) -> Phonemsg:
        """The first SMS to ``to`` that no earlier call returned, waiting for it if needed."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages()
            for index, message in enumerate(messages):
                if message.to == to and index not in self._claimed:
                    self._claimed.add(index)
                    return message
            if time.monotonic() > deadline:
                raise self.fail(f"no SMS to {to} at the phones; received {messages}")
            time.sleep(0.05)


def _terminate(process: subprocess.Popen[bytes], grace: float = 3.0) -> None:
    """Stop ``process`` and its process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    else:
        # the leader is gone; anything left in its group goes too
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def start_kannel(tmp_path: Path, inbound_url: str) -> Iterator[KannelGateway]:
    """A running :class:`KannelGateway` in ``tmp_path / "kannel"`` whose inbound SMS go to
    ``inbound_url``; skips the test when Kannel is not installed. Stopped on exit. A start that
    fails (say a port taken between choosing and binding it) is tried again on new ports in
    ``kannel-2``, then ``kannel-3``."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    for attempt in range(1, START_ATTEMPTS + 1):
        folder = tmp_path / ("kannel" if attempt == 1 else f"kannel-{attempt}")
        gateway = KannelGateway(folder, inbound_url)
        try:
            gateway.start()
        except AssertionError:
            gateway.stop()
            # a free port taken by another process in the meantime: again, on other ports
            if attempt == START_ATTEMPTS:
                raise
            continue
        try:
            yield gateway
        finally:
            gateway.stop()
        return


# --- the default inbound endpoint ------------------------------------------------------------


class InboundRecorder:
    """A loopback HTTP server that answers every request 200 with an empty body and records it:
    ``requests`` (the query of each, one value per name), ``paths`` (each path, same order)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                split = urlsplit(self.path)
                query = dict(parse_qsl(split.query, keep_blank_values=True, encoding="utf-8"))
                with recorder._lock:
                    recorder.requests.append(query)
                    recorder.paths.append(split.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The inbound endpoint's URL (any path is recorded; this one reads well in logs)."""
        return f"http://127.0.0.1:{self.port}/sms/inbound"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[dict[str, str]]:
        """The recorded queries, once there are at least ``count``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} requests, got {self.requests}")


@pytest.fixture
def inbound_recorder() -> Iterator[InboundRecorder]:
    recorder = InboundRecorder()
    recorder.start()
    yield recorder
    recorder.stop()


@pytest.fixture
def sms_inbound_url(inbound_recorder: InboundRecorder) -> str:
    return inbound_recorder.url


@pytest.fixture
def kannel(tmp_path: Path, sms_inbound_url: str) -> Iterator[KannelGateway]:
    with start_kannel(tmp_path, sms_inbound_url) as gateway:
        yield gateway
