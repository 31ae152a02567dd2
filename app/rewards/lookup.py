"""The rewards area's answer to the engage pages' question "what does this action earn?"."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from app.engage.outcomes import ShownReward
from app.extensions import db
from app.rewards.catalog import RewardDescription
from app.rewards.entitlements import rule_book
from app.rewards.models import Entitlement
from app.rewards.page import description_of


def _shown(description: RewardDescription) -> ShownReward:
    return ShownReward(
        description.title,
        description.summary,
        description.url,
        description.image_url,
        kind=description.reward.partition(":")[0],
    )


class EntitlementLookup:
    """:class:`app.engage.outcomes.RewardLookup` over the rule book and the entitlements."""

    def earned(self, member_id: int, action: str) -> list[ShownReward]:
        book = rule_book()
        rewards = db.session.scalars(
            select(Entitlement.reward)
            .where(Entitlement.member_id == member_id, Entitlement.earned_by == action)
            .order_by(Entitlement.id)
        )
        return [
            _shown(d)
            for reward in rewards
            if (d := description_of(reward, member_id, book)) is not None
        ]

    def unlocked_by(self, action: str, member_id: int | None) -> list[ShownReward]:
        book = rule_book()
        return [
            _shown(d)
            for rule in book.rewards_for(action)
            if (d := description_of(rule.reward, member_id, book)) is not None
        ]

    def page_url(self) -> str:
        return url_for("rewards.page")
