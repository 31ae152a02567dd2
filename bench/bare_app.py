"""The baseline of bench/article.py: a bare Flask app that answers one path with fixed bytes.

    PULLFIRST_BENCH_BODY=/tmp/page.html PULLFIRST_BENCH_PATH=/posts/x/ gunicorn bench.bare_app:app
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

app = Flask(__name__)
BODY = Path(os.environ["PULLFIRST_BENCH_BODY"]).read_bytes()


@app.route(os.environ["PULLFIRST_BENCH_PATH"])
def page() -> Response:
    return Response(BODY, mimetype="text/html")
