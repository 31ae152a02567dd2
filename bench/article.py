"""Article pages under gunicorn (deploy/gunicorn.conf.py, 2 workers) beside bare Flask apps doing
the same work, in the same run.

    .venv/bin/python bench/article.py /tmp/corpus /tmp/bench-instance

Figures, each beside its baseline, its budget and whether the budget is met:

1. every article once (the first view of each), with a session cookie: nothing of Pullfirst's
   page memo can answer; the baseline is a bare Flask app rendering the same template from the
   same data already in memory (bench/bare_app.py; its bytes are compared with Pullfirst's);
2. the same without a cookie;
3. one article repeated with a session cookie (rendered every time), beside the same baseline;
4. one article repeated without a cookie: the in-process page memo answers; the baseline is a
   bare Flask app returning the same bytes;
5. one worker's peak resident memory while serving every article (and after 300 searches).

Needs gunicorn (``pip install -e '.[deploy]'``) and wrk.
"""

from __future__ import annotations

import argparse
import http.cookies
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import PYTHON, REPO, app_env, free_port, load, wait_for

CONFIG = REPO / "deploy" / "gunicorn.conf.py"
ROTATE = """
local paths = {}
for line in io.lines(os.getenv("PULLFIRST_WRK_PATHS")) do paths[#paths + 1] = line end
local threads, count = {}, 0
function setup(thread)
  thread:set("id", count)
  count = count + 1
  table.insert(threads, thread)
end
function init(args)
  step = tonumber(args[1])
  next_index, share, done, bad = id, 0, 0, 0
  for i = id, #paths - 1, step do share = share + 1 end
end
function request()
  local path = paths[(next_index % #paths) + 1]
  next_index = next_index + step
  return wrk.format(nil, path)
end
function response(status, headers, body)
  done = done + 1
  if status ~= 200 then bad = bad + 1 end
  if done == share then
    -- wrk waits for its whole duration even when every thread stopped: tell the bench,
    -- which interrupts it (wrk then reports the time until then)
    local marker = io.open(os.getenv("PULLFIRST_WRK_DONE") .. "." .. id, "w")
    marker:close()
    wrk.thread:stop()
  end
end
function done(summary, latency, requests)
  local bad_total = 0
  for _, thread in ipairs(threads) do bad_total = bad_total + thread:get("bad") end
  io.write(string.format("Not 200: %d\\n", bad_total))
end
"""


def gunicorn(
    target: str, port: int, env: dict[str, str], workers: int = 2, config: bool = False
) -> subprocess.Popen[bytes]:
    """gunicorn serving ``target``; with ``config``, under deploy/gunicorn.conf.py."""
    settings = ["-c", str(CONFIG)] if config else []
    return subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            *settings,
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            target,
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def worker_memory_mb(master: int) -> dict[int, tuple[float, float]]:
    """pid → (resident, private) megabytes of each worker: resident counts the index pages
    mapped from the page cache, which every process shares; private is the worker's own."""
    children = Path(f"/proc/{master}/task/{master}/children")
    sizes = {}
    for pid in children.read_text().split():
        fields = {}
        try:
            lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
        except OSError:
            continue  # a worker that just exited
        for line in lines:
            name, value = line.split(":", 1)
            fields[name] = int(value.split()[0]) / 1024
        sizes[int(pid)] = (fields["Rss"], fields["Private_Clean"] + fields["Private_Dirty"])
    return sizes


class PeakMemory:
    """Samples the workers' memory every quarter second; keeps each worker's largest figure
    (gunicorn's max_requests replaces a worker now and then: its predecessor still counts)."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.peak: dict[int, tuple[float, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.sample()

    def sample(self) -> None:
        for pid, (rss, own) in worker_memory_mb(self.master).items():
            old = self.peak.get(pid, (0.0, 0.0))
            self.peak[pid] = (max(old[0], rss), max(old[1], own))

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def largest(self) -> tuple[float, float]:
        return max(self.peak.values(), default=(0.0, 0.0))


@dataclass(frozen=True)
class Run:
    rate: float  # requests per second
    requests: int
    not_ok: int  # answers other than 200, socket errors and timeouts

    def __str__(self) -> str:
        errors = f", {self.not_ok:,} errors or timeouts" if self.not_ok else ""
        return f"{self.rate:,.0f} requests/s ({self.requests:,} requests{errors})"


def wrk(
    url: str, seconds: int, connections: int, cookie: str | None = None, paths: Path | None = None
) -> Run:
    """wrk against ``url`` for ``seconds``; with ``paths``, each of them once instead (split
    between wrk's threads), however long that takes."""
    threads = 2
    command = ["wrk", f"-t{threads}", f"-c{connections}", "--timeout", "10s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    if paths is None:
        command += ["-d", f"{seconds}s", url]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    else:
        output = _rotate(command, url, paths, threads)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if rate is None or total is None:
        raise SystemExit("wrk printed no figure:\n" + output)
    not_ok = sum(
        int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|Not 200): (\d+)", output)[:1]
    )
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    not_ok += sum(int(n) for n in socket.groups()) if socket else 0
    return Run(float(rate.group(1)), int(total.group(1)), not_ok)


def _rotate(command: list[str], url: str, paths: Path, threads: int) -> str:
    """Run wrk over ``paths`` once, interrupting it as soon as its threads are done."""
    with tempfile.TemporaryDirectory() as folder:
        script, done = Path(folder) / "rotate.lua", Path(folder) / "done"
        script.write_text(ROTATE)
        env = {
            "PULLFIRST_WRK_PATHS": str(paths),
            "PULLFIRST_WRK_DONE": str(done),
            "PATH": "/usr/bin:/bin",
        }
        process = subprocess.Popen(
            [*command, "-d", "3600s", "-s", str(script), url, "--", str(threads)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        while process.poll() is None and len(list(Path(folder).glob("done.*"))) < threads:
            time.sleep(0.005)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate()
    return output


def session_cookie(base: str) -> str:
    """The session cookie a visitor gets from the sign-in form (it holds a CSRF token)."""
    with urllib.request.urlopen(f"{base}/signin") as response:  # noqa: S310 - loopback
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = http.cookies.SimpleCookie(header)
            if "session" in cookie:
                return f"session={cookie['session'].value}"
    raise SystemExit("the sign-in form set no session cookie")


def fetch(url: str, cookie: str | None = None) -> bytes:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})  # noqa: S310
    with urllib.request.urlopen(request) as response:  # noqa: S310 - loopback
        return bytes(response.read())


def search_queries(content: Path, count: int) -> list[str]:
    """Titles' words as queries: many different terms, so the caches fill up."""
    words: list[str] = []
    for path in sorted((content / "posts").glob("*.md"))[:count]:
        title = path.read_text(encoding="utf-8").split("title:", 1)[1].split("\n", 1)[0]
        words.extend(w for w in title.strip(' "').lower().split() if len(w) > 3)
    return [" ".join(words[i : i + 2]) for i in range(0, min(len(words), 2 * count), 2)]


def verdict(ratio: float, at_least: float | None) -> str:
    if at_least is None:
        return "reported"
    return f"at least {at_least:.0%}: {'MET' if ratio >= at_least else 'MISSED'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path)
    parser.add_argument("instance", type=Path)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    options = parser.parse_args()
    posts = sorted((options.content / "posts").glob("*.md"))
    path = f"/posts/{posts[len(posts) // 2].stem}/"
    env = app_env(options.content, options.instance)
    seconds, connections = options.seconds, options.connections
    work = Path(tempfile.mkdtemp(prefix="pullfirst-bench-article-"))
    paths = work / "paths.txt"
    paths.write_text("".join(f"/posts/{p.stem}/\n" for p in posts))
    data = work / "articles.pickle"
    subprocess.run(
        [
            PYTHON,
            "-m",
            "bench.bare_app",
            "prepare",
            str(options.content),
            str(options.instance),
            str(data),
        ],
        cwd=REPO,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )

    def serve(target: str, extra: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        process = gunicorn(target, port, {**env, **extra}, config=True)
        wait_for(f"http://127.0.0.1:{port}{path}", timeout=120, process=process)
        return process, f"http://127.0.0.1:{port}"

    # Each figure and its baseline are measured one right after the other (the servers not
    # being measured stay idle), so the machine's load moves both alike.
    ours: dict[str, Run] = {}
    baseline: dict[str, Run] = {}
    copy = work / "page.html"
    samples = posts[:: max(1, len(posts) // 20)]
    servers: list[subprocess.Popen[bytes]] = []
    try:
        bare, bare_base = serve("bench.bare_app:app", {"PULLFIRST_BENCH_DATA": str(data)})
        servers.append(bare)
        app, base = serve("app:create_app()", {})
        servers.append(app)
        cookie = session_cookie(base)
        with PeakMemory(app.pid) as memory:
            ours["rotate cookie"] = wrk(base + path, seconds, connections, cookie, paths)
        served_all = memory.largest()
        with PeakMemory(bare.pid) as bare_memory:
            baseline["rotate cookie"] = wrk(bare_base + path, seconds, connections, cookie, paths)
        stop(app)  # a new one, to which every page is new again
        servers.remove(app)
        app, base = serve("app:create_app()", {})
        servers.append(app)
        ours["rotate"] = wrk(base + path, seconds, connections, None, paths)
        baseline["rotate"] = wrk(bare_base + path, seconds, connections, None, paths)
        ours["one cookie"] = wrk(base + path, seconds, connections, cookie)
        baseline["one cookie"] = wrk(bare_base + path, seconds, connections, cookie)
        same = sum(
            fetch(f"{base}/posts/{p.stem}/", cookie)
            == fetch(f"{bare_base}/posts/{p.stem}/", cookie)
            for p in samples
        )
        body = fetch(base + path)
        copy.write_bytes(body)
        fixed, fixed_base = serve(
            "bench.bare_app:app", {"PULLFIRST_BENCH_BODY": str(copy), "PULLFIRST_BENCH_PATH": path}
        )
        servers.append(fixed)
        ours["one"] = wrk(base + path, seconds, connections)
        baseline["one"] = wrk(fixed_base + path, seconds, connections)
        for query in search_queries(options.content, 300):  # warm the search caches too
            fetch(f"{base}/search?q={urllib.parse.quote(query)}")
        after_searches = max(worker_memory_mb(app.pid).values())
    finally:
        for server in servers:
            stop(server)
    for leftover in (paths, data, copy):
        leftover.unlink()
    work.rmdir()

    rendering = "bare Flask rendering the same template from the same data in memory"
    figures = [
        (
            "rotate cookie",
            f"every one of the {len(posts):,} articles once, with a session cookie (not cached)",
            rendering,
            0.5,
        ),
        (
            "rotate",
            f"every one of the {len(posts):,} articles once, no cookie (each page is "
            "new to the page memo)",
            rendering,
            None,
        ),
        (
            "one cookie",
            f"one article repeated for {seconds} s, with a session cookie (rendered each time)",
            rendering,
            None,
        ),
        (
            "one",
            f"one article repeated for {seconds} s, no cookie (the page memo answers: cached)",
            "bare Flask returning the same bytes",
            0.7,
        ),
    ]
    print(
        f"article pages, gunicorn -c deploy/gunicorn.conf.py --workers 2, wrk -t2 "
        f"-c{connections} (load {load()})"
    )
    print(
        f"  the rendering baseline's bytes equal Pullfirst's on {same} of {len(samples)} "
        "sampled articles (with the same cookie)"
    )
    for key, title, against, budget in figures:
        ratio = ours[key].rate / baseline[key].rate
        print(f"  {title}:")
        print(f"    Pullfirst: {ours[key]}")
        print(f"    baseline:  {baseline[key]}, {against}")
        print(f"    ratio {ratio:.0%}; budget: {verdict(ratio, budget)}")
    rss, own = served_all
    print(
        f"  one worker's memory, at most, while serving every article: {rss:.0f} MB resident "
        f"({own:.0f} MB private); budget: at most 300 MB: "
        f"{'MET' if rss <= 300 else 'MISSED'}"
    )
    print(
        f"    baseline (the bare app holding every article's data): "
        f"{bare_memory.largest()[0]:.0f} MB resident ({bare_memory.largest()[1]:.0f} MB "
        "private)"
    )
    print(
        f"    a second server, after every article again, the other runs and 300 searches: "
        f"{after_searches[0]:.0f} MB resident ({after_searches[1]:.0f} MB private)"
    )


if __name__ == "__main__":
    main()
