"""Network namespaces for the benchmarks that need more than one host (not a benchmark itself).

:class:`Hosts` makes two namespaces joined by a veth pair, each with ``lo`` up and one address
on a private /24, and takes them down again: it kills every process still inside them (by the
pids ``ip netns pids`` lists, so only processes of this run) and deletes both namespaces.
Nothing is routed out of them: the namespaces only reach each other's addresses and their own
loopback. :func:`postgres` and :func:`redis` start scratch servers bound to one address.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


class NetnsError(SystemExit):
    """The machine cannot build the namespaces (not root, no ``ip``, names taken)."""


def check_can_build(names: tuple[str, ...]) -> None:
    """Raise :class:`NetnsError` with a clear line when the namespaces cannot be made here."""
    if os.geteuid() != 0:
        raise NetnsError("two hosts: network namespaces need root (run it with sudo)")
    if shutil.which("ip") is None:
        raise NetnsError(
            "two hosts: the `ip` command (iproute2) is missing: apt-get install iproute2"
        )
    taken = set(
        subprocess.run(
            ["ip", "netns", "list"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    if clash := [name for name in names if name in taken]:
        raise NetnsError(
            f"two hosts: the namespace {clash[0]} exists already (another run, or a "
            f"run killed with SIGKILL): remove it with `ip netns del {clash[0]}`"
        )


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def in_ns(name: str, command: list[str]) -> list[str]:
    """``command`` run inside the namespace ``name``."""
    return ["ip", "netns", "exec", name, *command]


@dataclass(frozen=True)
class Host:
    name: str  # the namespace
    address: str  # its address on the veth pair


class Hosts:
    """Two namespaces ``prefix-a`` and ``prefix-b`` on ``subnet``.1 and ``subnet``.2 (/24)."""

    def __init__(self, prefix: str = "pf", subnet: str = "10.77.0") -> None:
        self.a = Host(f"{prefix}-a", f"{subnet}.1")
        self.b = Host(f"{prefix}-b", f"{subnet}.2")
        self.made: list[str] = []

    def __enter__(self) -> Hosts:
        check_can_build((self.a.name, self.b.name))
        try:
            for host in (self.a, self.b):
                ip("netns", "add", host.name)
                self.made.append(host.name)
                ip("-n", host.name, "link", "set", "lo", "up")
            # Both ends are created inside their namespaces: no link ever appears in the
            # machine's own namespace.
            ip(
                "link",
                "add",
                "veth0",
                "netns",
                self.a.name,
                "type",
                "veth",
                "peer",
                "name",
                "veth0",
                "netns",
                self.b.name,
            )
            for host in (self.a, self.b):
                ip("-n", host.name, "addr", "add", f"{host.address}/24", "dev", "veth0")
                ip("-n", host.name, "link", "set", "veth0", "up")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Kill what is left inside the namespaces (TERM, then KILL), then delete them."""
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            pids = [pid for name in self.made for pid in pids_in(name)]
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + grace
            while pids and time.monotonic() < deadline:
                pids = [pid for pid in pids if Path(f"/proc/{pid}").exists() and not _zombie(pid)]
                time.sleep(0.1)
            if not pids:
                break
        while self.made:
            subprocess.run(
                ["ip", "netns", "del", self.made.pop()], check=False, capture_output=True
            )


def pids_in(name: str) -> list[int]:
    """The processes whose network namespace is ``name``."""
    found = subprocess.run(
        ["ip", "netns", "pids", name], capture_output=True, text=True, check=False
    ).stdout.split()
    return [int(pid) for pid in found if int(pid) != os.getpid()]


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return False


# --- scratch servers (run from inside the namespace that should hold them) -------------------


def postgres(folder: Path, address: str, log: Path) -> subprocess.Popen[bytes]:
    """A fresh PostgreSQL cluster in ``folder`` (owned by the ``postgres`` user, which initdb
    needs), trusting ``address``'s /24, listening on ``address`` only. Returns the process once
    it accepts connections."""
    import psycopg

    binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not binaries:
        raise SystemExit("two hosts: PostgreSQL is not installed (/usr/lib/postgresql/*/bin)")
    bin_dir = binaries[-1].parent
    folder.mkdir()
    shutil.chown(folder, "postgres", "postgres")
    data, sockets = folder / "data", folder / "sockets"
    as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [
            *as_postgres,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    subnet = address.rsplit(".", 1)[0] + ".0/24"
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write(f"host all all {subnet} trust\n")
    subprocess.run([*as_postgres, "mkdir", str(sockets)], check=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *as_postgres,
                str(bin_dir / "postgres"),
                "-D",
                str(data),
                "-k",
                str(sockets),
                "-c",
                f"listen_addresses={address}",
                "-c",
                "max_connections=200",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            psycopg.connect(f"postgresql://postgres@{address}/postgres", connect_timeout=2).close()
            return process
        except psycopg.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(
                    "two hosts: PostgreSQL did not start:\n" + log.read_text()
                ) from None
            time.sleep(0.2)


def stop_postgres(folder: Path, process: subprocess.Popen[bytes]) -> None:
    """Fast shutdown (SIGINT to the postmaster, whose pid runuser does not pass on)."""
    pid_file = folder / "data" / "postmaster.pid"
    try:
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
    except (OSError, ValueError, IndexError):
        process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def redis(address: str, folder: Path, log: Path) -> subprocess.Popen[bytes]:
    """A Redis server on ``address``:6379 that keeps nothing on disk."""
    import redis as client

    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                address,
                "--port",
                "6379",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "no",
                "--dir",
                str(folder),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            client.Redis(host=address, socket_connect_timeout=1).ping()
            return process
        except client.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("two hosts: Redis did not start:\n" + log.read_text()) from None
            time.sleep(0.1)
