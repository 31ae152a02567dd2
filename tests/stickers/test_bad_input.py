"""Every bad input of the issue, in one build beside a good pack: each fails with a message that
names the pack, the file and the rule, leaves no partial output, spares the other packs, and
keeps the workers' memory bounded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.stickers.build import BuildReport, PackOutcome, build_packs
from app.stickers.builds import HASH, current_hash
from app.stickers.pool import worker_pool
from tests.stickers import art
from tests.stickers.conftest import options


@dataclass(frozen=True)
class Bad:
    slug: str
    file: str
    rule: str
    fragment: str  # words the message must contain


def _bad_packs(stickers: Path) -> list[Bad]:
    cases: list[tuple[Bad, Callable[[Path], Path] | None]] = [
        (Bad("truncated-png", "s2.png", "decode", "damaged or truncated"), art.truncated_png),
        (Bad("truncated-jpeg", "s2.jpg", "decode", "damaged or truncated"), art.truncated_jpeg),
        (Bad("text-as-png", "s2.png", "format", "is not a PNG, JPEG or WebP"), art.text_as_png),
        (Bad("svg-as-png", "s2.png", "format", "is not a PNG, JPEG or WebP"), art.svg),
        (Bad("svg-file", "s2.svg", "format", "must be one of .png"), art.svg),
        (Bad("zero-filled", "s2.png", "pixels", "too many pixels"), art.zero_filled_png),
        (Bad("huge-header", "s2.png", "pixels", "too many pixels"), art.huge_header_png),
        (
            Bad("alpha-noise", "s2.png", "bytes", "cannot be made smaller than WhatsApp's limit"),
            art.alpha_noise,
        ),
        (Bad("path-escape", "../outside.png", "path", "leaves the pack folder"), None),
    ]
    art.shape(stickers / "outside.png")
    for bad, make in cases:
        folder = art.write_pack(stickers, bad.slug, 3)
        (folder / "s2.png").unlink()
        text = (folder / "pack.toml").read_text().replace('"s2.png"', f'"{bad.file}"')
        (folder / "pack.toml").write_text(text)
        if make is not None:
            make(folder / bad.file)
    art.write_pack(stickers, "thirty-one", 31)
    art.write_pack(
        stickers,
        "no-emoji",
        [{"file": f"s{n}.png", "emojis": [] if n == 2 else ["🐦"], "alt": "x"} for n in (1, 2, 3)],
    )
    art.write_pack(
        stickers,
        "four-emoji",
        [
            {
                "file": f"s{n}.png",
                "emojis": ["🐦", "😊", "🌸", "☕"] if n == 2 else ["🐦"],
                "alt": "x",
            }
            for n in (1, 2, 3)
        ],
    )
    for slug in ("no-emoji", "four-emoji"):
        for n in (1, 2, 3):
            art.shape(stickers / slug / f"s{n}.png")
    return [bad for bad, _ in cases] + [
        Bad("thirty-one", "pack.toml", "sticker-count", "31 stickers; WhatsApp takes 3 to 30"),
        Bad("no-emoji", "s2.png", "emoji", "0 emoji given"),
        Bad("four-emoji", "s2.png", "emoji", "4 emoji given"),
    ]


@dataclass
class BadRun:
    stickers: Path
    output: Path
    cases: list[Bad]
    report: BuildReport

    def outcome(self, slug: str) -> PackOutcome:
        return next(o for o in self.report.outcomes if o.slug == slug)


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BadRun]:
    root = tmp_path_factory.mktemp("bad-input")
    stickers, output = root / "stickers", root / "out"
    cases = _bad_packs(stickers)
    art.write_pack(stickers, "fine", 3)
    executor = worker_pool(2, clean=True)  # fresh workers: their peak memory is this run's
    try:
        report = build_packs(options(stickers, output), executor=executor)
    finally:
        executor.shutdown()
    yield BadRun(stickers, output, cases, report)


CASE_SLUGS = [
    "truncated-png",
    "truncated-jpeg",
    "text-as-png",
    "svg-as-png",
    "svg-file",
    "zero-filled",
    "huge-header",
    "alpha-noise",
    "path-escape",
    "thirty-one",
    "no-emoji",
    "four-emoji",
]


@pytest.mark.parametrize("slug", CASE_SLUGS)
def test_each_bad_input_fails_with_pack_file_and_rule(bad_run: BadRun, slug: str) -> None:
    bad = next(c for c in bad_run.cases if c.slug == slug)
    outcome = bad_run.outcome(slug)
    assert outcome.state == "failed"
    problem = next(p for p in outcome.problems if p.rule == bad.rule)
    assert problem.pack == slug and problem.file == bad.file
    message = str(problem)
    assert f"pack {slug}" in message and bad.file in message and f"rule: {bad.rule}" in message
    assert bad.fragment in message, message
    located = problem.located(f"stickers/{slug}/pack.toml")
    assert located.startswith(f"stickers/{slug}/pack.toml:{problem.line or 1}: pack {slug}: ")


@pytest.mark.parametrize("slug", CASE_SLUGS)
def test_a_bad_pack_leaves_no_partial_output(bad_run: BadRun, slug: str) -> None:
    folder = bad_run.output / slug
    assert current_hash(bad_run.output, slug) is None
    left = art.listing(folder)
    assert not any(HASH.match(name.split("/")[0]) or name.startswith(".tmp-") for name in left)
    assert left <= {"sources.json", ".lock", "failed.json"}


def test_the_good_pack_in_the_same_run_is_built(bad_run: BadRun) -> None:
    outcome = bad_run.outcome("fine")
    assert outcome.state == "built"
    assert current_hash(bad_run.output, "fine") == outcome.hash
    assert (bad_run.output / "fine" / str(outcome.hash) / "signal.zip").is_file()


def test_memory_stays_bounded(bad_run: BadRun) -> None:
    # A decoded 10000x10000 image alone would take 100 MB; 65535x65535, 16 GB.
    peak = bad_run.report.peak_worker_rss
    print(f"bad-input run: peak worker RSS {peak / 2**20:.0f} MiB")
    assert 0 < peak < 160 * 2**20


def test_image_failures_are_recorded_for_the_pages(bad_run: BadRun) -> None:
    import json

    record = json.loads((bad_run.output / "zero-filled" / "failed.json").read_text())
    assert record["problems"][0]["rule"] == "pixels"
    assert not (bad_run.output / "thirty-one").exists()  # a bad spec writes nothing at all
