"""What an SMTP status says: a reply code (RFC 5321) or an enhanced status code (RFC 3463)
found in a report's fields or in free text, what kind of bounce it is, and the few words a
delivery shows for it.

A ``5.x.x`` status is a **hard** bounce, except where the permanent failure is about the message
or its sender rather than the mailbox (``X.2.2`` mailbox full, ``X.2.3`` and ``X.3.4`` too large,
``X.6.x`` content, ``X.7.x`` refused by policy, which is how a spam filter says no): those are
**soft**, as every ``4.x.x`` is, so one filtered campaign cannot suppress every member of one
provider. Every pattern here is linear in the length of the text.
"""

from __future__ import annotations

import re
from enum import StrEnum

MAX_SUMMARY = 120

# An SMTP reply code followed by an enhanced status code ("550 5.1.1", "550-5.1.1", "#550 5.1.1").
_CODE_AND_STATUS = re.compile(r"(?<![\w.])#?([245]\d\d)[ -]#?([245]\.\d{1,3}\.\d{1,3})(?![\w.])")
# An enhanced status code alone ("#5.1.1", "Status: 5.2.2").
_STATUS = re.compile(r"(?<![\w.])#?([45]\.\d{1,3}\.\d{1,3})(?![\w.])")
# A failing SMTP reply code alone ("554: delivery error", "550 Requested action not taken").
_CODE = re.compile(r"(?<![\w.#])([45][05]\d)(?=[ :-])")

MEANINGS = {
    "1.1": "user unknown",
    "1.2": "domain not found",
    "1.3": "bad address syntax",
    "1.6": "mailbox has moved",
    "1.10": "address accepts no mail",
    "2.1": "mailbox disabled",
    "2.2": "mailbox full",
    "2.3": "message too large",
    "3.1": "mail system full",
    "3.4": "message too large",
    "4.1": "no answer from host",
    "4.4": "unable to route",
    "4.7": "delivery time expired",
    "7.1": "delivery not authorized",
}
SUBJECTS = {
    "1": "address problem",
    "2": "mailbox problem",
    "3": "mail system problem",
    "4": "network or routing problem",
    "5": "protocol problem",
    "6": "content refused",
    "7": "refused by policy",
}
# Permanent failures that are about the message or its sender, not the mailbox: soft.
NOT_THE_MAILBOX = ("2.2", "2.3", "3.4")
NOT_THE_MAILBOX_SUBJECTS = ("6", "7")


class Kind(StrEnum):
    """What a report is: the words the ``bounces`` table stores."""

    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"


def rank(kind: Kind) -> int:
    """How strong a report is: a complaint over a hard bounce over a soft one."""
    return {Kind.SOFT: 1, Kind.HARD: 2, Kind.COMPLAINT: 3}[kind]


def status_of(field: str) -> str | None:
    """The enhanced status code at the start of a ``Status:`` field."""
    match = re.match(r"\s*([245]\.\d{1,3}\.\d{1,3})(?![\w.])", field)
    return match.group(1) if match else None


def status_in(text: str) -> str | None:
    found = find_status(text)
    return found[0] if found else None


def find_status(text: str) -> tuple[str, int] | None:
    """The status an SMTP reply in free text gives (its enhanced code, or ``5.0.0``/``4.0.0``
    from a bare reply code) and where it stands."""
    for pattern, group in ((_CODE_AND_STATUS, 2), (_STATUS, 1)):
        match = pattern.search(text)
        if match:
            return match.group(group), match.start()
    match = _CODE.search(text)
    return (f"{match.group(1)[0]}.0.0", match.start()) if match else None


def kind_of(status: str) -> Kind:
    klass, subject, detail = status.split(".")
    if (
        klass != "5"
        or f"{subject}.{detail}" in NOT_THE_MAILBOX
        or subject in NOT_THE_MAILBOX_SUBJECTS
    ):
        return Kind.SOFT
    return Kind.HARD


def summary(status: str) -> str:
    """``5.1.1 user unknown``: the status and what it means, in a few words."""
    klass, subject, detail = status.split(".")
    if subject == "0":
        words = "permanent failure" if klass == "5" else "temporary failure"
    else:
        words = MEANINGS.get(f"{subject}.{detail}") or SUBJECTS.get(subject, "failure")
    return f"{status} {words}"[:MAX_SUMMARY]
