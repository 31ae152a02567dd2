"""``stickers build``: turn pack folders into per-platform downloads, using every core.

:func:`plan_build` reads each spec and its content hash and decides what to do: a pack whose
hash already has a complete build is skipped (a run with nothing to do opens no image and
starts no process); a broken spec fails at once. :func:`run_build` hands one task per image to a
pool of worker processes, and finishes each pack as soon as its last task is in: atomically on
success, leaving nothing behind on failure. One pack's failure never touches another.

Each pack is built under an exclusive lock (``instance/stickers/<slug>/.lock``), so a site
building at start-up and an operator's command never build the same pack at once.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Executor, Future, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from PIL import Image

from app.stickers import fingerprint, limits, publish
from app.stickers import spec as specs
from app.stickers.builds import current_hash
from app.stickers.errors import PackProblem
from app.stickers.manifests import SiteLinks
from app.stickers.pool import worker_pool
from app.stickers.worker import (
    IconResult,
    IconTask,
    PersonalResult,
    PersonalTask,
    Result,
    StickerResult,
    StickerTask,
    Task,
    TaskFailure,
    run_task,
)

Progress = Callable[[int], None]


@dataclass(frozen=True)
class BuildOptions:
    stickers_dir: Path
    output_dir: Path  # instance/stickers
    telegram_bot: str
    max_pixels: int
    workers: int = 0  # 0: one per core
    links: SiteLinks = field(default_factory=SiteLinks)

    def settings(self) -> dict[str, Any]:
        """The settings that shape the output, so a change of one rebuilds every pack."""
        return {
            "telegram_bot": self.telegram_bot,
            "max_pixels": self.max_pixels,
            "website": self.links.website,
            "privacy": self.links.privacy_policy,
        }

    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1


@dataclass(frozen=True)
class PackOutcome:
    """What happened to one pack: ``built``, ``up-to-date``, ``failed`` or ``busy`` (another
    process was building it)."""

    slug: str
    state: str
    hash: str | None = None
    problems: tuple[PackProblem, ...] = ()
    seconds: float = 0.0
    stickers: int = 0


@dataclass(frozen=True)
class BuildReport:
    outcomes: tuple[PackOutcome, ...]
    peak_worker_rss: int  # bytes; 0 when no worker ran
    seconds: float

    @property
    def failed(self) -> list[PackOutcome]:
        return [o for o in self.outcomes if o.state == "failed"]


@dataclass
class _Job:
    """One pack being built."""

    spec: specs.PackSpec
    hash: str
    pack_dir: Path
    lock: IO[bytes]
    folder: Path = Path()
    started: float = 0.0
    names: dict[int, str] = field(default_factory=dict)
    stickers: dict[int, tuple[str, StickerResult]] = field(default_factory=dict)
    icons: IconResult | None = None
    personal: PersonalResult | None = None
    problems: list[PackProblem] = field(default_factory=list)
    pending: set[Future[Result]] = field(default_factory=set)
    peak: int = 0  # the highest peak memory its workers reported, in bytes


@dataclass
class BuildPlan:
    options: BuildOptions
    jobs: list[_Job]
    outcomes: list[PackOutcome]

    @property
    def task_count(self) -> int:
        return sum(
            len(job.spec.stickers) + 1 + (1 if job.spec.personal else 0) for job in self.jobs
        )


def _file_name(position: int, file: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(file).stem).strip("_")[:40] or "sticker"
    return f"{position:02d}_{stem}"


def _lock(pack_dir: Path) -> IO[bytes] | None:
    pack_dir.mkdir(parents=True, exist_ok=True)
    handle = (pack_dir / ".lock").open("ab")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _clear_leftovers(pack_dir: Path) -> None:
    """Remove temporary folders of builds that died half-way (we hold the lock)."""
    for leftover in pack_dir.glob(".tmp-*"):
        publish.discard(leftover)


def _plan_pack(options: BuildOptions, folder: Path, force: bool) -> _Job | PackOutcome:
    spec, problems = specs.read_pack(folder, options.telegram_bot)
    if spec is None or problems:
        return PackOutcome(folder.name, "failed", problems=tuple(problems))
    pack_dir = options.output_dir / spec.slug
    stamps = fingerprint.read_stamps(pack_dir)
    try:
        build_hash, fresh = fingerprint.pack_hash(spec, options.settings(), stamps)
    except OSError as exc:
        return PackOutcome(
            spec.slug,
            "failed",
            problems=(
                PackProblem(spec.slug, Path(exc.filename or "pack.toml").name, "missing", str(exc)),
            ),
        )
    if fresh != stamps:
        fingerprint.write_stamps(pack_dir, fresh)
    if not force:
        if current_hash(options.output_dir, spec.slug) == build_hash:
            return PackOutcome(spec.slug, "up-to-date", build_hash, stickers=spec.sticker_count)
        remembered = publish.remembered_failure(pack_dir, build_hash, spec.slug)
        if remembered is not None:
            return PackOutcome(spec.slug, "failed", build_hash, tuple(remembered))
    lock = _lock(pack_dir)
    if lock is None:
        return PackOutcome(spec.slug, "busy", build_hash)
    _clear_leftovers(pack_dir)
    return _Job(spec, build_hash, pack_dir, lock)


def plan_build(
    options: BuildOptions, slugs: list[str] | None = None, force: bool = False
) -> BuildPlan:
    """Decide what to build. Takes the lock of every pack it will build: use the plan in a
    ``with`` block (or call :func:`release`)."""
    folders = specs.pack_folders(options.stickers_dir)
    outcomes: list[PackOutcome] = []
    if slugs:
        known = {f.name: f for f in folders}
        outcomes += [
            PackOutcome(
                slug,
                "failed",
                problems=(
                    PackProblem(
                        slug,
                        "pack.toml",
                        "missing",
                        f"no folder {slug}/ with a pack.toml in {options.stickers_dir}",
                    ),
                ),
            )
            for slug in slugs
            if slug not in known
        ]
        folders = [known[s] for s in slugs if s in known]
    jobs = []
    for folder in folders:
        planned = _plan_pack(options, folder, force)
        if isinstance(planned, _Job):
            jobs.append(planned)
        else:
            outcomes.append(planned)
    return BuildPlan(options, jobs, outcomes)


def release(plan: BuildPlan) -> None:
    for job in plan.jobs:
        job.lock.close()


def _tasks(job: _Job, options: BuildOptions) -> list[tuple[Task, str]]:
    """Every task of the pack, with the file each one reads."""
    spec = job.spec
    tasks: list[tuple[Task, str]] = []
    for sticker in spec.stickers:
        job.names[sticker.position] = _file_name(sticker.position, sticker.file)
        tasks.append(
            (
                StickerTask(
                    sticker.path,
                    job.folder,
                    spec.slug,
                    job.names[sticker.position],
                    options.max_pixels,
                ),
                sticker.file,
            )
        )
    tray_file, tray_path = (
        (spec.tray, spec.tray_path)
        if spec.tray and spec.tray_path
        else (spec.stickers[0].file, spec.stickers[0].path)
    )
    tasks.append((IconTask(tray_path, job.folder, spec.slug, options.max_pixels), tray_file))
    if spec.personal:
        p = spec.personal
        tasks.append(
            (
                PersonalTask(
                    p.base_path,
                    job.folder,
                    p.box,
                    p.color,
                    p.outline,
                    p.font_path,
                    options.max_pixels,
                ),
                p.base,
            )
        )
    return tasks


ENCODING_COST = 3 * limits.CANVAS * limits.CANVAS  # in decoded pixels: the encodes of a sticker


def _expected_cost(path: Path) -> int:
    """About how much work converting ``path`` is, from its header alone: the pixels a worker
    will decode (a JPEG at the reduced scale of its draft mode) plus the encodes. Only an order
    of work: an unreadable header counts as no work (the worker reports what is wrong)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a decompression bomb is the worker's to refuse
            with Image.open(path, formats=limits.ALLOWED_FORMATS) as image:
                width, height = image.size
                scale = 1
                while (
                    image.format == "JPEG"
                    and scale < 8
                    and min(width, height) // (scale * 2) >= limits.CONTENT
                ):
                    scale *= 2
    except Exception:  # any failure is the worker's to report
        return 0
    return (width // scale) * (height // scale) + ENCODING_COST


def _take(job: _Job, task: Task, result: Result) -> None:
    if isinstance(result, StickerResult) and isinstance(task, StickerTask):
        position = next(pos for pos, name in job.names.items() if name == task.name)
        job.stickers[position] = (task.name, result)
    elif isinstance(result, IconResult):
        job.icons = result
    elif isinstance(result, PersonalResult):
        job.personal = result


def _finish(job: _Job, options: BuildOptions) -> PackOutcome:
    spec = job.spec
    seconds = time.perf_counter() - job.started
    if not job.problems and job.icons is not None:
        try:
            pack = publish.assemble(
                spec, job.hash, job.folder, job.stickers, job.icons, job.personal
            )
            pack = publish.write_downloads(pack, options.links)
            job.problems += publish.verify(pack)
            if not job.problems:
                publish.publish(pack, job.pack_dir)
                return PackOutcome(spec.slug, "built", job.hash, (), seconds, spec.sticker_count)
        except OSError as exc:
            job.problems.append(
                PackProblem(spec.slug, "pack.toml", "write", f"could not write the build: {exc}")
            )
    publish.discard(job.folder)
    publish.record_failure(job.pack_dir, job.hash, job.problems)
    return PackOutcome(spec.slug, "failed", job.hash, tuple(job.problems), seconds)


def run_build(
    plan: BuildPlan, executor: Executor | None = None, on_task: Progress | None = None
) -> BuildReport:
    """Build every pack of ``plan``. ``executor`` defaults to a new pool of worker processes
    (one per core); pass one to share it between builds."""
    started = time.perf_counter()
    outcomes = list(plan.outcomes)
    peak = 0
    if plan.jobs:
        owned = executor is None
        pool = executor or worker_pool(min(plan.options.worker_count(), plan.task_count))
        try:
            outcomes += _run_jobs(plan, pool, on_task)
            peak = max(job.peak for job in plan.jobs)
        finally:
            if owned:
                pool.shutdown(cancel_futures=True)
    order = {
        folder.name: i for i, folder in enumerate(specs.pack_folders(plan.options.stickers_dir))
    }
    outcomes.sort(key=lambda o: order.get(o.slug, len(order)))
    return BuildReport(tuple(outcomes), peak, time.perf_counter() - started)


def _run_jobs(plan: BuildPlan, pool: Executor, on_task: Progress | None) -> list[PackOutcome]:
    owners: dict[Future[Result], tuple[_Job, Task, str]] = {}
    queued: list[tuple[int, int, _Job, Task, str]] = []
    for job in plan.jobs:
        job.folder = job.pack_dir / f".tmp-{job.hash[:12]}-{secrets.token_hex(4)}"
        job.folder.mkdir(parents=True)
        job.started = time.perf_counter()
        for task, file in _tasks(job, plan.options):
            source = task.base if isinstance(task, PersonalTask) else task.source
            queued.append((_expected_cost(source), len(queued), job, task, file))
    # The longest conversions first, so that no worker is left with a large one at the end
    # while the others idle.
    for _, _, job, task, file in sorted(queued, key=lambda q: (-q[0], q[1])):
        future = pool.submit(run_task, task)
        owners[future] = (job, task, file)
        job.pending.add(future)
    outcomes = []
    remaining = set(owners)
    while remaining:
        done, remaining = wait(remaining, return_when="FIRST_COMPLETED")
        for future in done:
            job, task, file = owners[future]
            _collect(job, task, file, future)
            job.pending.discard(future)
            if on_task is not None:
                on_task(1)
            if not job.pending:
                outcomes.append(_finish(job, plan.options))
    return outcomes


def _collect(job: _Job, task: Task, file: str, future: Future[Result]) -> None:
    line = job.spec.lines.get(file)
    try:
        result = future.result()
    except CancelledError:
        return
    except Exception as exc:  # a worker died (killed, out of memory) or the pool broke
        job.problems.append(
            PackProblem(
                job.spec.slug, file, "worker", f"the worker converting it stopped: {exc!r}", line
            )
        )
        return
    job.peak = max(job.peak, result.peak_rss)
    if isinstance(result, TaskFailure):
        job.problems.append(PackProblem(job.spec.slug, file, result.rule, result.message, line))
        for other in job.pending:  # the pack has failed: do not convert the rest
            other.cancel()
        return
    _take(job, task, result)


@contextmanager
def planned(
    options: BuildOptions, slugs: list[str] | None = None, force: bool = False
) -> Iterator[BuildPlan]:
    plan = plan_build(options, slugs, force)
    try:
        yield plan
    finally:
        release(plan)


def build_packs(
    options: BuildOptions,
    slugs: list[str] | None = None,
    force: bool = False,
    executor: Executor | None = None,
    on_task: Progress | None = None,
) -> BuildReport:
    """Plan and run a build in one call."""
    with planned(options, slugs, force) as plan:
        return run_build(plan, executor, on_task)
