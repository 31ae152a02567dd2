"""The packs the site offers: each pack folder whose spec reads cleanly, with its newest build.

Specs are re-read when a ``pack.toml`` changes (one ``stat`` per file per request); a spec with
problems is left out and logged (``flask stickers check`` explains it). A pack whose build is
not there yet is offered as "still building", or as "unavailable" when its last build failed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from app.stickers import builds
from app.stickers.builds import BuiltPack
from app.stickers.spec import SPEC_FILE, PackSpec, pack_folders, read_pack

log = logging.getLogger("pullfirst.stickers")

READY, BUILDING, UNAVAILABLE = "ready", "building", "unavailable"


@dataclass(frozen=True)
class ListedPack:
    spec: PackSpec
    build: BuiltPack | None
    failed: bool

    @property
    def slug(self) -> str:
        return self.spec.slug

    @property
    def state(self) -> str:
        if self.build is not None:
            return READY
        return UNAVAILABLE if self.failed else BUILDING


class PackLibrary:
    """Reads specs and builds for the site; one per app, shared by its threads."""

    def __init__(self, stickers_dir: Path, output_dir: Path, telegram_bot: str) -> None:
        self.stickers_dir, self.output_dir = stickers_dir, output_dir
        self.telegram_bot = telegram_bot
        self._stamp: tuple[tuple[str, int, int], ...] | None = None
        self._specs: dict[str, PackSpec] = {}
        self._builds: dict[tuple[str, str], BuiltPack] = {}

    def _current_stamp(self) -> tuple[tuple[str, int, int], ...]:
        stamp = []
        for folder in pack_folders(self.stickers_dir):
            try:
                info = (folder / SPEC_FILE).stat()
            except FileNotFoundError:
                continue
            stamp.append((folder.name, info.st_mtime_ns, info.st_size))
        return tuple(stamp)

    def specs(self) -> dict[str, PackSpec]:
        """Every pack whose spec has no problem, by slug, in folder order."""
        stamp = self._current_stamp()
        if stamp != self._stamp:
            specs = {}
            for folder in pack_folders(self.stickers_dir):
                spec, problems = read_pack(folder, self.telegram_bot)
                if spec is not None and not problems:
                    specs[spec.slug] = spec
                else:
                    for problem in problems:
                        log.error("sticker pack left out: %s", problem)
            self._specs, self._stamp = specs, stamp
        return self._specs

    def build(self, slug: str) -> BuiltPack | None:
        build_hash = builds.current_hash(self.output_dir, slug)
        if build_hash is None:
            return None
        key = (slug, build_hash)
        if key not in self._builds:
            built = builds.read_build(self.output_dir, slug, build_hash)
            if built is None:
                return None
            self._builds[key] = built
        return self._builds[key]

    def pack(self, slug: str) -> ListedPack | None:
        """The pack named ``slug``, or None when no clean spec of that name exists."""
        spec = self.specs().get(slug)
        if spec is None:
            return None
        build = self.build(slug)
        failed = build is None and builds.read_failure(self.output_dir, slug) is not None
        return ListedPack(spec, build, failed)

    def packs(self) -> list[ListedPack]:
        listed = [self.pack(slug) for slug in self.specs()]
        return [pack for pack in listed if pack is not None]
