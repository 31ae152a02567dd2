"""Two hosts: a campaign and readers across two network namespaces, one host killed mid-run.

    sudo .venv/bin/python bench/two_hosts.py                  # 20,000 members, one kill
    sudo .venv/bin/python bench/two_hosts.py --members 2000   # a quick check

It builds two hosts as network namespaces joined by a veth pair (``pf-a`` on 10.77.0.1,
``pf-b`` on 10.77.0.2; nothing else is reachable from them and nothing outside is contacted)
and removes them when done, whatever happens. Host A runs a scratch PostgreSQL and Redis, an
SMTP sink that keeps every message, and nginx (``deploy/nginx``) balancing over both hosts'
gunicorn (``deploy/gunicorn.conf.py``). Each host runs its own gunicorn and notifier worker
(``flask --app app notify worker``) with its own instance folder, sharing the secret and the
receipt signing key as the README asks.

It sends a campaign to ``--members`` members who earned the newsletter and said yes to it by
email, while wrk readers browse the home page and the articles through nginx. When
``--kill-at`` of the campaign is sent, it SIGKILLs host B's worker and its gunicorn (master
and workers at once), and starts them again ``--restart-after`` seconds later. The killed
worker's leases run out after ``--lease`` seconds and the other workers take those deliveries.

When every delivery is final it prints requests/s and reader errors, deliveries/s, the
deliveries each worker sent, and what the sink received against the deliveries table: lost
(members never sent, or recorded sent but never received) and duplicated (one delivery
received more than once). It expects 0 lost and at most one duplicate per kill, each copy with
the delivery's own Message-ID, prints PASS or FAIL, and exits 1 on FAIL.

The script builds and removes the namespaces itself and runs again inside host A to seed
the database, watch the campaign and count. The nginx shared cache is off by default
(``--shared-cache 0``): with it, nginx answers nearly every anonymous read itself and the
readers would not notice a host going away.
"""

from __future__ import annotations

import argparse
import atexit
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._common import PYTHON, load, unscheduled_content, wait_for  # noqa: E402
from bench._netns import Host, Hosts, NetnsError, check_can_build, in_ns  # noqa: E402

WEB_PORT, NGINX_PORT, SMTP_PORT = 8000, 8080, 2525
FLASK = [PYTHON, "-m", "flask", "--app", "app"]
BASELINE_SECONDS = 10
SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}  # wrk's units


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=20_000, help="campaign recipients")
    parser.add_argument(
        "--readers", type=int, default=16, help="readers browsing through nginx (wrk connections)"
    )
    parser.add_argument(
        "--think",
        type=int,
        default=100,
        help="milliseconds each reader waits between pages (0: as fast as the hosts answer)",
    )
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers per host")
    parser.add_argument("--batch", type=int, default=50, help="deliveries a worker claims at once")
    parser.add_argument("--lease", type=int, default=10, help="NOTIFY_LEASE_SECONDS")
    parser.add_argument(
        "--kills", type=int, default=1, help="times host B's worker and gunicorn are killed"
    )
    parser.add_argument(
        "--kill-at",
        type=float,
        default=0.3,
        help="share of the campaign sent before the first kill",
    )
    parser.add_argument(
        "--restart-after",
        type=float,
        default=5.0,
        help="seconds until host B comes back (0: it stays down)",
    )
    parser.add_argument(
        "--shared-cache",
        type=int,
        default=0,
        help="SHARED_CACHE_SECONDS (nginx caches anonymous pages that long)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900,
        help="give up when the campaign is not finished after this many seconds",
    )
    parser.add_argument("--prefix", default="pf", help="namespaces are PREFIX-a and PREFIX-b")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the scratch folder (every process's log) and print its path",
    )
    parser.add_argument("--inside", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside is not None:
        return Run(args).inside()
    return outside(args)


# --- outside: the namespaces, and everything removed afterwards --------------------------------


def outside(args: argparse.Namespace) -> int:
    """Build the namespaces, run the rest inside host A, and take it all down again."""
    hosts = Hosts(args.prefix)
    try:
        check_can_build((hosts.a.name, hosts.b.name))
    except NetnsError as exc:
        print(exc, file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="pullfirst-two-hosts-"))
    work.chmod(0o755)  # PostgreSQL and nginx's workers run as other users
    child: list[subprocess.Popen[bytes]] = []
    cleaned: list[bool] = []

    def clean() -> None:
        if cleaned:
            return
        cleaned.append(True)
        for process in child:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
        hosts.close()
        if args.keep and work.exists():
            print(f"logs kept in {work / 'logs'}", file=sys.stderr)
        elif not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    def on_signal(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    atexit.register(clean)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        with hosts:
            child.append(
                subprocess.Popen(
                    in_ns(hosts.a.name, [PYTHON, __file__, "--inside", str(work), *sys.argv[1:]])
                )
            )
            return child[0].wait()
    except KeyboardInterrupt:
        return 130
    finally:
        clean()


# --- inside host A ------------------------------------------------------------------------------


class Readers:
    """wrk through nginx: each connection is a reader who waits ``think`` ms between pages.
    :meth:`start` runs it for ``seconds``; :meth:`finish` stops it early with SIGINT (wrk then
    prints its summary) and reads the figures."""

    def __init__(self, url: str, script: Path, connections: int, log: Path) -> None:
        self.url, self.script, self.connections, self.log = url, script, connections, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, seconds: int = 3600) -> None:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    "wrk",
                    "-t1",
                    f"-c{self.connections}",
                    f"-d{seconds}s",
                    "--timeout",
                    "10s",
                    "--latency",
                    "-s",
                    str(self.script),
                    self.url,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def finish(self, early: bool = True) -> dict[str, float]:
        """Requests, seconds, errors (socket errors and non-2xx/3xx answers) and latency
        percentiles in ms."""
        if self.process is None:
            return {}
        if early:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30 if early else None)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        out = self.log.read_text()
        figures: dict[str, float] = {}
        done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)\b", out)
        if done:
            figures["requests"] = int(done.group(1))
            figures["seconds"] = float(done.group(2)) * SECONDS[done.group(3)]
        figures["errors"] = sum(
            int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)
        )
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        figures["errors"] += int(bad.group(1)) if bad else 0
        for percent, value, unit in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\b", out, re.M):
            figures[f"p{percent}"] = float(value) * SECONDS[unit] * 1000
        return figures


def reading_line(figures: dict[str, float]) -> str:
    requests, span = int(figures.get("requests", 0)), figures.get("seconds") or 1.0
    return (
        f"{requests:,} requests in {span:.0f} s: {requests / span:,.0f} requests/s, "
        f"{int(figures.get('errors', 0))} errors; p50 {figures.get('p50', 0):.1f} ms, "
        f"p90 {figures.get('p90', 0):.1f} ms, p99 {figures.get('p99', 0):.1f} ms"
    )


class Sink:
    """bench/_smtp_sink's saver on host A's address: every message kept as received."""

    def __init__(self, host: str, port: int, path: Path) -> None:
        from aiosmtpd.controller import Controller

        from bench._smtp_sink import _Saver

        self.handler = _Saver(path)
        self.controller = Controller(self.handler, hostname=host, port=port)
        self.running = False

    def start(self) -> None:
        self.controller.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.controller.stop()
            self.running = False
        if self.handler.out is not None and not self.handler.out.closed:
            self.handler.out.close()


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work: Path = args.inside
        self.logs = self.work / "logs"
        self.logs.mkdir()
        hosts = Hosts(args.prefix)
        self.a, self.b = hosts.a, hosts.b
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.worker_hosts: dict[int, str] = {}  # worker pid -> which host it ran on
        self.kills: list[datetime] = []
        self.restarts: list[datetime] = []

    # --- processes -----------------------------------------------------------------------

    def env(self, host: Host) -> dict[str, str]:
        return {
            **self.base_env,
            "PULLFIRST_INSTANCE_PATH": str(self.work / host.name),
            "PULLFIRST_BIND": f"{host.address}:{WEB_PORT}",
            # nginx runs on host A: its X-Forwarded-* headers count on both hosts.
            "PULLFIRST_FORWARDED_ALLOW_IPS": self.a.address,
        }

    def start(self, key: str, host: Host, command: list[str]) -> subprocess.Popen[bytes]:
        log = self.logs / f"{key}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                in_ns(host.name, command),
                cwd=REPO,
                env=self.env(host),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[key] = process
        return process

    def start_web(self, host: Host) -> subprocess.Popen[bytes]:
        key = f"web-{host.name}"
        process = self.start(
            key,
            host,
            [str(REPO / ".venv/bin/gunicorn"), "-c", "deploy/gunicorn.conf.py", "app:create_app()"],
        )
        wait_for(f"http://{host.address}:{WEB_PORT}/", 120, process)
        return process

    def start_worker(self, host: Host) -> subprocess.Popen[bytes]:
        key = f"worker-{host.name}"
        log = self.logs / f"{key}.log"
        seen = log.read_text().count("batches of") if log.exists() else 0
        process = self.start(
            key, host, [*FLASK, "notify", "worker", "--batch", str(self.args.batch)]
        )
        self.worker_hosts[process.pid] = host.name
        deadline = time.monotonic() + 120
        while log.read_text().count("batches of") <= seen:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the worker on {host.name} did not start:\n{log.read_text()}")
            time.sleep(0.1)
        return process

    def kill_host_b(self) -> None:
        """SIGKILL host B's worker and its whole gunicorn (master and workers) at once."""
        for key in (f"worker-{self.b.name}", f"web-{self.b.name}"):
            process = self.processes.pop(key)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        self.kills.append(datetime.now(UTC))

    def stop_all(self) -> None:
        for process in self.processes.values():  # workers finish the delivery in hand
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    # --- the run ---------------------------------------------------------------------------

    def inside(self) -> int:
        signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
        from bench._netns import postgres, redis, stop_postgres

        pg_folder = self.work / "postgresql"
        servers: list[subprocess.Popen[bytes]] = []
        pg: subprocess.Popen[bytes] | None = None
        sink = None
        try:
            pg = postgres(pg_folder, self.a.address, self.logs / "postgresql.log")
            servers.append(redis(self.a.address, self.work, self.logs / "redis.log"))
            self.prepare()
            sink, saved = self.start_sink()
            return self.campaign(sink, saved)
        finally:
            self.stop_all()
            if sink is not None:
                sink.stop()
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
            if pg is not None:
                stop_postgres(pg_folder, pg)

    def prepare(self) -> None:
        import psycopg

        server = f"postgresql://postgres@{self.a.address}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
            connection.execute("CREATE DATABASE pullfirst")
        keys = self.work / "keys"
        keys.mkdir()
        from app.consent.ledger.keys import instance_key

        instance_key(keys)  # one receipt signing key for both hosts, as the README asks
        stickers = self.work / "stickers"
        stickers.mkdir()
        env = {
            k: v
            for k, v in os.environ.items()  # nothing leaves the namespaces: no proxy
            if not k.startswith("PULLFIRST_")
            and k != "DATABASE_URL"
            and not k.lower().endswith("_proxy")
        }
        self.base_env = {
            **env,
            "PULLFIRST_DATABASE_URL": f"{server}/pullfirst",
            "PULLFIRST_RATELIMIT_STORAGE_URI": f"redis://{self.a.address}:6379/0",
            "PULLFIRST_MAIL_URL": f"smtp://{self.a.address}:{SMTP_PORT}",
            "PULLFIRST_BASE_URL": f"http://127.0.0.1:{NGINX_PORT}",
            "PULLFIRST_SECRET_KEY": secrets.token_hex(32),
            "PULLFIRST_RECEIPT_SIGNING_KEY_FILE": str(keys / "receipt-signing-key.pem"),
            "PULLFIRST_CONTENT_DIR": str(unscheduled_content(self.work)),
            "PULLFIRST_STICKERS_DIR": str(stickers),
            "PULLFIRST_PROXY_COUNT": "1",
            "PULLFIRST_SHARED_CACHE_SECONDS": str(self.args.shared_cache),
            "PULLFIRST_WORKERS": str(self.args.web_workers),
            "PULLFIRST_NOTIFY_LEASE_SECONDS": str(self.args.lease),
            "PULLFIRST_NOTIFY_POLL_SECONDS": "0.2",
            "PULLFIRST_LOG_LEVEL": "WARNING",
        }
        os.environ.clear()
        os.environ.update(self.env(self.a))
        os.environ["PULLFIRST_INSTANCE_PATH"] = str(self.work / "bench")
        from app import create_app
        from app.database import migrate
        from app.extensions import db
        from app.notify.campaigns import Draft, create_campaign
        from bench._notify_world import add_members

        self.app = create_app()
        with self.app.app_context():
            migrate.upgrade(db.engine)
            started = time.monotonic()
            now = datetime.now(UTC)
            self.members = set(add_members(self.args.members, now))
            campaign = create_campaign(
                Draft(
                    "Two hosts",
                    "Hello. [Read](/posts/pull-before-push/).",
                    "newsletter",
                    "editorial",
                    ("email",),
                ),
                None,
                now,
            )
            db.session.commit()
            self.campaign_id: int = campaign.id
            db.session.close()
            print(
                f"{len(self.members):,} members seeded in {time.monotonic() - started:.0f} s",
                flush=True,
            )
        for host in (self.a, self.b):
            subprocess.run(
                in_ns(host.name, [*FLASK, "content", "index"]),
                cwd=REPO,
                env=self.env(host),
                check=True,
                stdout=subprocess.DEVNULL,
            )

    def start_sink(self) -> tuple[Sink, Path]:
        saved = self.work / "sink.mbox"
        sink = Sink(self.a.address, SMTP_PORT, saved)
        sink.start()
        return sink, saved

    def campaign(self, sink: Sink, saved: Path) -> int:
        from bench._nginx import Nginx, config

        for host in (self.a, self.b):
            self.start_web(host)
        prefix = self.work / "nginx"
        prefix.mkdir()
        conf = config(prefix, NGINX_PORT, f"{self.a.address}:{WEB_PORT}")
        http = prefix / "pullfirst-http.conf"
        http.write_text(
            http.read_text().replace(
                f"server {self.a.address}:{WEB_PORT};",
                f"server {self.a.address}:{WEB_PORT};\n    server {self.b.address}:{WEB_PORT};",
            )
        )
        script = self.work / "browse.lua"
        paths = ["/"] + [f"/posts/{p.stem}/" for p in sorted((REPO / "content/posts").glob("*.md"))]
        script.write_text(
            "local paths = {" + ", ".join(f'"{p}"' for p in paths) + "}\n"
            "local n = 0\n"
            f"delay = function() return {self.args.think} end\n"
            "request = function()\n"
            "  n = n + 1\n"
            "  return wrk.format('GET', paths[n % #paths + 1])\n"
            "end\n"
        )
        with Nginx(prefix, conf):
            wait_for(f"http://127.0.0.1:{NGINX_PORT}/", 30)
            for host in (self.a, self.b):
                self.start_worker(host)
            alone: dict[str, float] = {}
            readers = Readers(
                f"http://127.0.0.1:{NGINX_PORT}", script, self.args.readers, self.logs / "wrk.log"
            )
            if self.args.readers:
                # The baseline, same run: the readers alone, workers idle and nothing to send.
                readers.start(BASELINE_SECONDS)
                alone = readers.finish(early=False)
                readers.start()
            time.sleep(2)  # readers under way before the campaign starts
            try:
                began = self.send_and_watch()
            finally:
                reading = readers.finish()
            self.stop_all()
        sink.stop()
        return self.report(began, alone, reading, saved)

    def send_and_watch(self) -> datetime:
        from app.extensions import db
        from app.notify.campaigns import get_campaign, send_now

        size = len(self.members)
        kill_points = [
            round(size * (self.args.kill_at + (1 - self.args.kill_at) * n / (self.args.kills + 1)))
            for n in range(self.args.kills)
        ]
        with self.app.app_context():
            campaign = get_campaign(self.campaign_id)
            assert campaign is not None
            began = datetime.now(UTC)
            send_now(campaign, began)
            db.session.commit()
            print(
                f"campaign queued for {size:,} members, {self.args.readers} readers "
                f"browsing (load {load()})",
                flush=True,
            )
            deadline = time.monotonic() + self.args.timeout
            restart_at: float | None = None
            last_print = 0.0
            while True:
                states = self.states()
                sent = states.get("sent", 0)
                waiting = sum(states.get(s, 0) for s in ("queued", "leased", "retry"))
                if time.monotonic() - last_print > 10:
                    last_print = time.monotonic()
                    print(f"  {sent:>6,} sent, {waiting:>6,} waiting (load {load()})", flush=True)
                if (
                    kill_points
                    and sent >= kill_points[0]
                    and f"worker-{self.b.name}" in self.processes
                ):
                    kill_points.pop(0)
                    self.kill_host_b()
                    print(f"  {sent:>6,} sent: SIGKILL host B's worker and gunicorn", flush=True)
                    if self.args.restart_after > 0:
                        restart_at = time.monotonic() + self.args.restart_after
                if restart_at is not None and time.monotonic() >= restart_at:
                    restart_at = None
                    self.start_web(self.b)
                    self.start_worker(self.b)
                    self.restarts.append(datetime.now(UTC))
                    print(f"  {self.states().get('sent', 0):>6,} sent: host B is back", flush=True)
                if not waiting:
                    return began
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"the campaign did not finish in {self.args.timeout:.0f} s: {states}"
                    )
                for key, process in self.processes.items():
                    if process.poll() is not None:
                        raise SystemExit(
                            f"{key} stopped:\n" + (self.logs / f"{key}.log").read_text()[-3000:]
                        )
                time.sleep(0.5)

    def states(self) -> dict[str, int]:
        from sqlalchemy import func, select

        from app.extensions import db
        from app.notify.models import Delivery

        rows = dict(
            db.session.execute(
                select(Delivery.state, func.count())
                .where(Delivery.campaign_id == self.campaign_id)
                .group_by(Delivery.state)
            ).all()
        )
        db.session.rollback()
        return rows

    # --- the figures -----------------------------------------------------------------------

    def report(
        self, began: datetime, alone: dict[str, float], reading: dict[str, float], saved: Path
    ) -> int:
        from sqlalchemy import select

        from app.extensions import db
        from app.notify.models import Delivery
        from bench._smtp_sink import read_saved

        with self.app.app_context():
            rows = db.session.execute(
                select(
                    Delivery.id,
                    Delivery.member_id,
                    Delivery.state,
                    Delivery.message_id,
                    Delivery.sent_at,
                    Delivery.leased_by,
                    Delivery.attempts,
                ).where(Delivery.campaign_id == self.campaign_id)
            ).all()
            db.session.close()
            db.engine.dispose()
        received: defaultdict[int, list[str]] = defaultdict(list)
        for message in read_saved(saved):
            head = message.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
            delivery = re.search(r"(?im)^X-Pullfirst-Delivery:\s*(\d+)", head)
            message_id = re.search(r"(?im)^Message-ID:\s*(\S+)", head)
            received[int(delivery.group(1)) if delivery else 0].append(
                message_id.group(1) if message_id else "?"
            )

        sent = {row.id: row for row in rows if row.state == "sent"}
        sent_members = {row.member_id for row in sent.values()}
        never_sent = len(self.members - sent_members)
        not_received = sum(1 for d in sent if d not in received)
        unrecorded = sum(1 for d in received if d not in sent)
        duplicated = {d: ids for d, ids in received.items() if len(ids) > 1}
        copies = sum(len(ids) - 1 for ids in duplicated.values())
        wrong_id = [
            d for d, ids in received.items() if d in sent and set(ids) != {sent[d].message_id}
        ]
        lost = never_sent + not_received

        finished = max(row.sent_at for row in sent.values()).replace(tzinfo=UTC) if sent else began
        seconds = (finished - began).total_seconds()
        print(
            f"\nTwo hosts ({self.a.name} {self.a.address}: PostgreSQL, Redis, nginx, SMTP sink, "
            f"gunicorn x{self.args.web_workers}, worker; {self.b.name} {self.b.address}: "
            f"gunicorn x{self.args.web_workers}, worker), {os.cpu_count()} cores, "
            f"load {load()}"
        )
        if self.args.readers:
            print(
                f"readers:    {self.args.readers} through nginx, {self.args.think} ms between "
                "pages, home page and articles"
            )
            print(f"  during the campaign: {reading_line(reading)}")
            print(f"  alone (same run):    {reading_line(alone)}")
        print(
            f"campaign:   {len(sent):,} of {len(self.members):,} sent in {seconds:.1f} s: "
            f"{len(sent) / seconds:,.0f} deliveries/s"
            if seconds
            else "campaign: nothing sent"
        )
        if self.kills:
            first = self.kills[0]
            before = sum(1 for row in sent.values() if row.sent_at.replace(tzinfo=UTC) < first)
            span = (first - began).total_seconds()
            which = "the kill" if len(self.kills) == 1 else "the first kill"
            print(
                f"            {before:,} in the {span:.1f} s before {which}: "
                f"{before / span:,.0f} deliveries/s with both hosts"
            )
        by_worker = Counter(
            self.worker_hosts.get(int(row.leased_by.split(":")[1]), "?")
            + f" pid {row.leased_by.split(':')[1]}"
            for row in sent.values()
            if row.leased_by
        )
        for worker, count in sorted(by_worker.items()):
            print(f"            {worker}: {count:,} sent")
        again = sum(1 for row in sent.values() if row.attempts > 1)
        back = (
            f"back after {self.args.restart_after:g} s"
            if self.args.restart_after > 0
            else "not started again"
        )
        print(
            f"kills:      {len(self.kills)} (host B's worker and gunicorn at once, SIGKILL; "
            f"{back}; leases {self.args.lease} s): {again} deliveries claimed a second "
            "time once a lease ran out"
        )
        print(
            f"lost:       {lost} ({never_sent} members never sent, {not_received} recorded "
            f"sent but not received; {unrecorded} received but not recorded sent)"
        )
        print(
            f"duplicated: {copies} ({len(duplicated)} "
            f"{'delivery' if len(duplicated) == 1 else 'deliveries'} received more than once"
            + "".join(
                f"; delivery {d}: {len(ids)} copies, Message-ID {', '.join(sorted(set(ids)))}"
                for d, ids in sorted(duplicated.items())
            )
            + ")"
        )
        print(
            "Message-ID: "
            + (
                "every copy carries its delivery's own"
                if not wrong_id
                else f"{len(wrong_id)} deliveries received with another Message-ID"
            )
        )
        ok = lost == 0 and copies <= len(self.kills) and not wrong_id and not unrecorded
        print(
            f"{'PASS' if ok else 'FAIL'}: {lost} lost, {copies} duplicated with "
            f"{len(self.kills)} kill(s), "
            f"{'same' if not wrong_id else 'different'} Message-ID (expected 0 lost, "
            f"duplicates <= kills, same Message-ID)"
        )
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
