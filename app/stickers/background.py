"""Building missing packs when the site starts, in the background.

``flask serve`` runs :func:`start_background_build` as a start-up step: it plans the build at
once (cheap: it only hashes), then builds in a daemon thread with the worker pool, so the site
answers while packs are made. Pages show a pack without a build as "still building".
"""

from __future__ import annotations

import logging
import threading

from flask import current_app

from app.registry import Slot
from app.stickers import personal
from app.stickers.build import BuildPlan, plan_build, release, run_build
from app.stickers.context import build_options

log = logging.getLogger("pullfirst.stickers")
BUILD_THREAD = Slot[threading.Thread](
    "sticker_build",
    "the thread building missing packs after start-up",
    set_by="app.stickers.background.start_background_build",
)


def _run(plan: BuildPlan) -> None:
    try:
        report = run_build(plan)
    except Exception:  # the thread must log, not die silently
        log.exception("sticker build failed")
        return
    finally:
        release(plan)
    for outcome in report.outcomes:
        if outcome.state == "failed":
            for problem in outcome.problems:
                log.error("sticker pack not built: %s", problem)
        elif outcome.state == "built":
            log.info("sticker pack %s built in %.1f s", outcome.slug, outcome.seconds)


def start_background_build() -> str:
    """Start building every pack whose build is missing; return a line for the console."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    options = build_options(app)
    departed = personal.prune_departed_members(options.output_dir)
    plan = plan_build(options)
    failed = [o.slug for o in plan.outcomes if o.state == "failed"]
    for outcome in plan.outcomes:
        for problem in outcome.problems:
            log.error("sticker pack not built: %s", problem)
    ready = sum(1 for o in plan.outcomes if o.state == "up-to-date")
    note = f"; {len(failed)} with problems (flask --app app stickers check)" if failed else ""
    if departed:
        note += f"; removed the stickers of {departed} deleted members"
    if not plan.jobs:
        release(plan)
        return f"{ready} packs up to date{note}"
    thread = threading.Thread(target=_run, args=(plan,), name="sticker-build", daemon=True)
    BUILD_THREAD.set(app, thread)
    thread.start()
    names = ", ".join(job.spec.slug for job in plan.jobs)
    return f"building {names} in the background; {ready} up to date{note}"
