"""Anonymous article requests through nginx's cache (deploy/ snippets) in front of gunicorn,
beside nginx serving a static copy of the same page, in the same run.

    .venv/bin/python bench/shared_cache.py /tmp/corpus /tmp/bench-instance

Needs nginx (Debian's nginx-light is enough), gunicorn and wrk. nginx runs with its own prefix and
config in a temporary folder and is stopped at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import app_env, free_port, load, wait_for, wrk
from bench._nginx import Nginx, config
from bench.article import gunicorn, stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path)
    parser.add_argument("instance", type=Path)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    options = parser.parse_args()
    posts = sorted((options.content / "posts").glob("*.md"))
    path = f"/posts/{posts[len(posts) // 3].stem}/"

    app_port, port, static_port = free_port(), free_port(), free_port()
    app = gunicorn("app:create_app()", app_port, app_env(options.content, options.instance))
    try:
        wait_for(f"http://127.0.0.1:{app_port}{path}", process=app)
        with tempfile.TemporaryDirectory() as folder:
            prefix = Path(folder)
            with urllib.request.urlopen(f"http://127.0.0.1:{app_port}{path}") as response:
                body = response.read()
            copy = prefix / "static" / path.strip("/") / "index.html"
            copy.parent.mkdir(parents=True)
            copy.write_bytes(body)
            conf = config(prefix, port, f"127.0.0.1:{app_port}", prefix / "static", static_port)
            with Nginx(prefix, conf):
                cached_url = f"http://127.0.0.1:{port}{path}"
                wait_for(cached_url)
                with urllib.request.urlopen(cached_url) as response:
                    status = response.headers.get("X-Cache-Status")
                cached = wrk(cached_url, options.seconds, options.connections)
                static = wrk(
                    f"http://127.0.0.1:{static_port}{path}", options.seconds, options.connections
                )
    finally:
        stop(app)
    print(
        f"anonymous article {path} ({len(body):,} bytes), wrk -c{options.connections} "
        f"-d{options.seconds}s (load {load()})"
    )
    print(
        f"  nginx cache in front of gunicorn: {cached:9.0f} requests/s "
        f"(second request: X-Cache-Status {status})"
    )
    print(f"  nginx serving a static copy:      {static:9.0f} requests/s")
    print(f"  ratio: {cached / static:.0%} of static (budget: at least 80%)")


if __name__ == "__main__":
    main()
