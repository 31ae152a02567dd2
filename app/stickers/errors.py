"""Errors of the stickers area::

    StickersError           sticker packs cannot be read, built or served
    └── ArtRejected         one image cannot become a sticker (``rule`` names the check it broke)

A :class:`PackProblem` is the unit of every report: the pack, the file, the rule it broke and a
sentence for the person who fixes it. ``flask stickers check`` and ``flask stickers build`` print
them with the line of ``pack.toml`` that names the file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PackProblem:
    """Why a pack cannot be used. ``file`` is relative to the pack folder (``pack.toml`` for the
    spec itself); ``line`` is the line of ``pack.toml`` that names it, when known."""

    pack: str
    file: str
    rule: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"pack {self.pack}: {self.file}: {self.message} (rule: {self.rule})"

    def located(self, spec_path: str) -> str:
        """The problem prefixed with ``<spec_path>:<line>:``, as compilers print."""
        return f"{spec_path}:{self.line or 1}: {self}"


class StickersError(Exception):
    pass


class ArtRejected(StickersError):
    """An image failed the check named ``rule`` (``format``, ``pixels``, ``decode``, ``empty``,
    ``bytes`` …). Raised by the image pipeline, which knows no pack; the build adds the pack and
    the file. Picklable, so it crosses from a worker process unchanged."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(rule, message)
        self.rule, self.message = rule, message

    def __str__(self) -> str:
        return f"{self.message} (rule: {self.rule})"
