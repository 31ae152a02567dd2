#!/usr/bin/env bash
# Lighthouse scores of the pages readers meet first: the home page, an article, search results
# and a survey, on desktop (the targets) and on the default mobile preset (reported).
#
#   bench/lighthouse.sh            serve a fresh demo instance and audit it
#   bench/lighthouse.sh URL        audit an instance already running at URL
#
# Needs Node.js and npm (installs Lighthouse from bench/package.json) and /usr/bin/chromium.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
out="$repo/bench/out/lighthouse"
mkdir -p "$out"
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}

if [ ! -x "$here/node_modules/.bin/lighthouse" ]; then
  (cd "$here" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi

server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true; }
trap cleanup EXIT

if [ $# -ge 1 ]; then
  base="${1%/}"
else
  port=$("$repo/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  instance="$(mktemp -d)"
  base="http://127.0.0.1:$port"
  (cd "$repo" && env -u DATABASE_URL PULLFIRST_INSTANCE_PATH="$instance" PULLFIRST_BASE_URL="$base" \
    "$repo/.venv/bin/flask" --app app serve --port "$port" >"$out/serve.log" 2>&1) &
  server_pid=$!
  for _ in $(seq 1 120); do
    curl -fsS -o /dev/null "$base/" 2>/dev/null && break
    sleep 0.5
  done
fi

article=$(curl -fsS "$base/" | grep -o 'href="/posts/[^"]*"' | head -1 | cut -d'"' -f2 || true)
survey=$(curl -fsS "$base/surveys/" | grep -o 'href="/surveys/[^"/]*/"' | head -1 | cut -d'"' -f2 || true)
pages=("/" "${article:-/}" "/search?q=permission" "${survey:-/surveys/}")
names=("home" "article" "search" "survey")

flags="--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync"
printf '%-8s %-8s %-45s %5s %5s %5s %5s\n' preset page url perf a11y bp seo
for preset in desktop mobile; do
  for i in "${!pages[@]}"; do
    report="$out/${names[$i]}-$preset.json"
    extra=()
    [ "$preset" = desktop ] && extra=(--preset=desktop)
    "$here/node_modules/.bin/lighthouse" "$base${pages[$i]}" "${extra[@]}" --quiet \
      --chrome-flags="$flags" --output=json --output-path="$report" >/dev/null 2>&1 || true
    python3 - "$report" "$preset" "${names[$i]}" "${pages[$i]}" <<'PY'
import json, sys
path, preset, name, url = sys.argv[1:]
try:
    categories = json.load(open(path))["categories"]
    scores = [round(100 * (categories[k]["score"] or 0)) for k in
              ("performance", "accessibility", "best-practices", "seo")]
except (OSError, ValueError, KeyError):
    scores = ["err"] * 4
print(f"{preset:<8} {name:<8} {url[:45]:<45} " + " ".join(f"{s:>5}" for s in scores))
PY
  done
done
echo "reports: $out"
