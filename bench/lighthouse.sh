#!/usr/bin/env bash
# Lighthouse scores of the pages readers meet first: the home page, an article, search results
# and a survey, on desktop (held to the targets of issue 8) and on the default mobile preset
# (reported). Prints page x preset x the four category scores, the median of the runs, and exits
# 1 when a desktop score misses its target.
#
#   bench/lighthouse.sh            serve a fresh demo instance and audit it
#   bench/lighthouse.sh URL        audit an instance already running at URL
#
#   LIGHTHOUSE_DESKTOP_RUNS=3      runs per page on desktop (the median is reported)
#   LIGHTHOUSE_MOBILE_RUNS=1       runs per page on mobile
#
# Reports (JSON and HTML) go to bench/out/lighthouse/. Needs Node.js and npm (installs the
# Lighthouse pinned in bench/package.json) and Chromium at $CHROME_PATH (/usr/bin/chromium).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
out="$repo/bench/out/lighthouse"
python="$repo/.venv/bin/python"
[ -x "$python" ] || python=python3
desktop_runs=${LIGHTHOUSE_DESKTOP_RUNS:-3}
mobile_runs=${LIGHTHOUSE_MOBILE_RUNS:-1}
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}

if [ ! -x "$here/node_modules/.bin/lighthouse" ]; then
  (cd "$here" && npm install --no-save --no-audit --no-fund --loglevel=error >/dev/null)
fi
mkdir -p "$out"
rm -f "$out"/*.report.json "$out"/*.report.html "$out"/*.log

server_pid=""
instance=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$instance" ]; then rm -rf "$instance"; fi
}
trap cleanup EXIT

if [ $# -ge 1 ]; then
  base="${1%/}"
else
  port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  instance="$(mktemp -d)"
  base="http://127.0.0.1:$port"
  # exec, so that $! is the server itself and the trap stops it
  (cd "$repo" && unset DATABASE_URL && export PULLFIRST_INSTANCE_PATH="$instance" PULLFIRST_BASE_URL="$base" \
    && exec "$repo/.venv/bin/flask" --app app serve --port "$port" >"$out/serve.log" 2>&1) &
  server_pid=$!
  for _ in $(seq 1 120); do
    curl -fsS -o /dev/null "$base/" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { echo "the server stopped; see $out/serve.log" >&2; exit 2; }
    sleep 0.5
  done
fi
curl -fsS -o /dev/null "$base/" || { echo "nothing answers at $base/" >&2; exit 2; }

article=$(curl -fsS "$base/" | grep -o 'href="/posts/[^"]*"' | head -1 | cut -d'"' -f2 || true)
survey=$(curl -fsS "$base/surveys/" | grep -o 'href="/surveys/[^"/]*/"' | head -1 | cut -d'"' -f2 || true)
pages=("/" "${article:-/}" "/search?q=permission" "${survey:-/surveys/}")
names=("home" "article" "search" "survey")

flags="--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync"
version=$("$here/node_modules/.bin/lighthouse" --version)
echo "Lighthouse $version on $base, Chromium $("$CHROME_PATH" --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1)"
echo "desktop: median of $desktop_runs run(s) per page; mobile: median of $mobile_runs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for preset in desktop mobile; do
  runs=$desktop_runs
  extra=(--preset=desktop)
  if [ "$preset" = mobile ]; then runs=$mobile_runs; extra=(); fi
  for run in $(seq 1 "$runs"); do
    for i in "${!pages[@]}"; do
      name="${names[$i]}-$preset-$run"
      # A run Lighthouse itself could not record (a trace without its navigation start, say)
      # scores nothing: it asks to be run again, and is, up to twice, a few seconds later.
      for attempt in 1 2 3; do
        if "$here/node_modules/.bin/lighthouse" "$base${pages[$i]}" "${extra[@]}" --quiet \
          --chrome-flags="$flags" --output=json --output=html --output-path="$out/$name" \
          >"$out/$name.log" 2>&1; then
          break
        elif [ "$attempt" -lt 3 ]; then
          echo "lighthouse could not record ${pages[$i]} ($preset): $(tail -n 1 "$out/$name.log"); again" >&2
          sleep 3
        else
          echo "lighthouse failed on ${pages[$i]} ($preset) three times; see $out/$name.log" >&2
        fi
      done
    done
  done
done

args=()
for i in "${!pages[@]}"; do args+=("${names[$i]}=${pages[$i]}"); done
status=0
"$python" "$here/_lighthouse.py" "$out" "${args[@]}" || status=$?
echo "reports: $out"
exit "$status"
