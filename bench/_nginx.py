"""Run a private nginx (own prefix, config and port) around the shipped deploy/ snippets."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from bench._common import REPO

DEPLOY = REPO / "deploy" / "nginx"


def config(
    prefix: Path, port: int, upstream: str, static_root: Path | None = None, static_port: int = 0
) -> Path:
    """Write ``prefix/nginx.conf``: the shipped http and proxy snippets (cache path and upstream
    moved into ``prefix``), serving ``/`` through the cache on ``port``. With ``static_root``,
    a second server on ``static_port`` serves that folder as static files."""
    http = (DEPLOY / "pullfirst-http.conf").read_text()
    http = http.replace("/var/cache/nginx/pullfirst", str(prefix / "cache"))
    http = http.replace("server 127.0.0.1:8000;", f"server {upstream};")
    (prefix / "pullfirst-http.conf").write_text(http)
    shutil.copy(DEPLOY / "pullfirst-proxy.conf", prefix / "pullfirst-proxy.conf")
    static = ""
    if static_root is not None:
        static = f"""
    server {{
        listen 127.0.0.1:{static_port};
        root {static_root};
        location / {{ try_files $uri $uri/index.html =404; default_type text/html; }}
    }}"""
    text = f"""
worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body-temp;
    proxy_temp_path {prefix}/proxy-temp;
    fastcgi_temp_path {prefix}/fastcgi-temp;
    uwsgi_temp_path {prefix}/uwsgi-temp;
    scgi_temp_path {prefix}/scgi-temp;
    include {prefix}/pullfirst-http.conf;
    server {{
        listen 127.0.0.1:{port};
        location / {{ include {prefix}/pullfirst-proxy.conf; }}
    }}{static}
}}
"""
    path = prefix / "nginx.conf"
    path.write_text(text)
    return path


class Nginx:
    def __init__(self, prefix: Path, conf: Path) -> None:
        self.prefix, self.conf = prefix, conf

    def __enter__(self) -> Nginx:
        self.prefix.chmod(0o755)  # workers run as an unprivileged user when started by root
        for folder in self.prefix.rglob("*"):
            folder.chmod(0o755 if folder.is_dir() else 0o644)
        subprocess.run(
            ["nginx", "-t", "-q", "-p", str(self.prefix), "-c", str(self.conf)],
            check=True,
            capture_output=True,
        )
        subprocess.run(["nginx", "-p", str(self.prefix), "-c", str(self.conf)], check=True)
        time.sleep(0.3)
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run(
            ["nginx", "-p", str(self.prefix), "-c", str(self.conf), "-s", "stop"],
            check=False,
            capture_output=True,
        )
        deadline = time.monotonic() + 10
        while (self.prefix / "nginx.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
