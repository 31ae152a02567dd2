"""Errors of the rewards area::

RewardsError          reward rules or grants cannot be used
└── RuleError         a rule file is malformed (``path`` and ``line`` say where)
"""

from __future__ import annotations

from pathlib import Path


class RewardsError(Exception):
    pass


class RuleError(RewardsError):
    def __init__(self, path: Path, line: int | None, message: str) -> None:
        self.path, self.line, self.message = path, line, message
        super().__init__(f"{path}:{line or 1}: {message}")
