"""What the rewards page shows a member: packs they earned (and for what), scopes their actions
earned the right to be offered, and rewards still locked with the ways to earn them.

Pull, never nag: locked rewards list only ways that can be taken now, and scopes are offered
with their promise and an unticked opt-in that the consent area draws (or, until it does, a
pointer to the permissions page). Nothing here asks for or depends on consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.rewards import catalog
from app.rewards.catalog import RewardDescription
from app.rewards.entitlements import entitlements_of, rule_book
from app.rewards.rules import Rule, RuleBook
from app.rewards.wording import ActionWords, describe_action


@dataclass(frozen=True)
class EarnedReward:
    description: RewardDescription
    earned_by: ActionWords
    earned_at: datetime
    promise: str = ""  # a scope's promise, shown when no describer draws the offer


@dataclass(frozen=True)
class LockedReward:
    description: RewardDescription
    ways: list[ActionWords]


@dataclass(frozen=True)
class RewardsPage:
    packs: list[EarnedReward]
    scopes: list[EarnedReward]
    locked: list[LockedReward]
    referral_rewards: list[RewardDescription]  # what bringing a friend earns


def _fallback(reward: str, rule: Rule | None) -> RewardDescription:
    kind, _, ref = reward.partition(":")
    title = rule.title if rule is not None and rule.title else ref
    if kind == "pack":
        return RewardDescription(reward, f"Sticker pack “{title}”")
    return RewardDescription(reward, title, summary=rule.summary if rule is not None else "")


def description_of(reward: str, member_id: int | None, book: RuleBook) -> RewardDescription | None:
    """The owning area's description of ``reward``; a plain one made from its rule file when no
    area describes its kind yet; None when the owning area does not know it (left out)."""
    if catalog.has_describer(reward.partition(":")[0]):
        return catalog.describe(reward, member_id)
    return _fallback(reward, book.rule_for(reward))


def scope_titles(book: RuleBook) -> dict[str, str]:
    return {rule.ref: rule.title for rule in book.rules if rule.kind == "scope"}


def rewards_page(member_id: int, now: datetime) -> RewardsPage:
    book = rule_book()
    titles = scope_titles(book)
    packs: list[EarnedReward] = []
    scopes: list[EarnedReward] = []
    held = set()
    for entitlement in entitlements_of(member_id):
        held.add(entitlement.reward)
        description = description_of(entitlement.reward, member_id, book)
        if description is None:
            continue
        rule = book.rule_for(entitlement.reward)
        earned = EarnedReward(
            description,
            describe_action(entitlement.earned_by, now, titles),
            entitlement.earned_at,
            rule.summary if rule is not None else "",
        )
        (packs if entitlement.reward.startswith("pack:") else scopes).append(earned)
    locked = []
    for rule in book.rules:
        if rule.reward in held:
            continue
        ways = [w for w in (describe_action(p, now, titles) for p in rule.patterns) if w.available]
        description = description_of(rule.reward, member_id, book)
        if ways and description is not None:
            locked.append(LockedReward(description, list(dict.fromkeys(ways))))
    referral = [
        d
        for rule in book.rewards_for("referral")
        if (d := description_of(rule.reward, member_id, book)) is not None
    ]
    return RewardsPage(packs, scopes, locked, referral)
