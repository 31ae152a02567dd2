"""What the gate learned about one member, in the words the member reads on their "why did I
get this?" page: how often they get a scope now (the promise, or less after silence) and
when (their usual hour inside the promised window). The verdicts come from the gate's own
functions (:func:`~app.consent.gate.rules.resting_until`,
:func:`~app.consent.gate.rules.usual_hour`), so the page and the sends agree."""

from __future__ import annotations

from datetime import datetime

from app.consent.gate.facts import facts_for_send
from app.consent.gate.rules import (
    Campaign,
    ignored_streak,
    relevant_contacts,
    resting_until,
    usual_hour,
    zone,
)
from app.consent.scopes import Scope
from app.consent.terms import Channel

NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _count(n: int) -> str:
    return NUMBERS[n - 1] if 1 <= n <= len(NUMBERS) else str(n)


def learned_words(member_id: int, scope: Scope, channel: Channel, now: datetime) -> list[str]:
    """The sentences about how often and when ``scope`` reaches the member on ``channel``,
    as learned from their responses; none when learning is off."""
    facts = facts_for_send(member_id, scope.slug, channel, now)
    member = facts.members.get(member_id)
    if not facts.learning or member is None:
        return []
    contacts = relevant_contacts(member, Campaign.of(scope), now)
    streak = ignored_streak(member, scope.slug, contacts)
    title = scope.title
    if streak == 0:
        often = f"You opened the latest message about {title}, so you get all we promised."
    elif streak >= scope.pause_after_ignored:
        often = (
            f"You left the last {_count(streak)} messages about {title} unopened, so we "
            "stopped sending them. We ask once whether you still want them, then stay quiet "
            "until you come back."
        )
    else:
        rest = resting_until(member, scope, contacts)
        assert rest is not None
        local = rest.astimezone(zone(member.time_zone))
        skipped = "the next send" if streak == 1 else f"the next {_count(streak)} sends"
        unopened = "the last one" if streak == 1 else f"the last {_count(streak)}"
        often = (
            f"You left {unopened} unopened, so we skip {skipped} until "
            f"{local.day} {local.strftime('%B %Y')}; opening any message about {title} "
            "brings the full promise back at once."
        )
    hour = usual_hour(member)
    if hour is None:
        when = (
            "We do not know your usual hour yet, so messages go out at the start of the "
            "promised times."
        )
    else:
        when = (
            f"You usually read around {hour:02d}:00 ({member.time_zone}), so messages wait "
            "for that hour when the promised days and times allow it."
        )
    return [often, when]
