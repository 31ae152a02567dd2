"""Errors of the transfer area (the member importer)::

TransferError              an import cannot go on; nothing was written
├── ImportRefused          the file or the options are wrong before any row is read: not a
│                          CSV file, no email column, an unknown scope or channel, a rate or a
│                          mapping that cannot be read
├── BadRowsFound           ``--apply`` on a file with bad rows, without ``--skip-bad-rows``
└── ImportRunError         an import run that cannot be shown, changed or applied (unknown,
                           already imported, discarded)

Each message names the file (and the line, for a row) so the operator can fix it.
"""

from __future__ import annotations


class TransferError(Exception):
    """Base of the importer's errors; when one is raised nothing was written."""


class ImportRefused(TransferError):
    pass


class BadRowsFound(TransferError):
    """Carries the dry run's report (``report``), so the bad rows can be shown."""

    def __init__(self, message: str, report: object = None) -> None:
        super().__init__(message)
        self.report = report


class ImportRunError(TransferError):
    pass
