"""The team's answer to a member who wrote from Telegram goes back to that chat.

A member's reply sent from the chat joins the campaign's conversation; when a marketer answers
it under *Admin → Conversations*, the answer is a system message to the same chat (it is an
answer the member asked for, not a campaign), besides the site inbox where every answer shows.
"""

from __future__ import annotations

from html import escape

from app.consent.telegram import chat_of
from app.consent.terms import Channel
from app.extensions import db
from app.notify.conversation import latest_reply_channel
from app.notify.inbox import scope_title
from app.notify.models import Campaign, Reply
from app.outbound.botapi import BotApi


def came_from_telegram(campaign_id: int, member_id: int) -> bool:
    """Whether the member's latest reply about the campaign was written in Telegram."""
    return latest_reply_channel(campaign_id, member_id) == Channel.TELEGRAM


def forward_answer(api: BotApi, answer: Reply) -> bool:
    """Send ``answer`` to the member's chat when their conversation is on Telegram and the chat
    is linked and not blocked; True when Telegram took it. Raises what the Bot API raises."""
    chat = chat_of(answer.member_id)
    if chat is None or chat.blocked_at is not None:
        return False
    if not came_from_telegram(answer.campaign_id, answer.member_id):
        return False
    campaign = db.session.get_one(Campaign, answer.campaign_id)
    text = (
        f"<b>Our team answered about {escape(scope_title(campaign), quote=False)}</b>\n\n"
        f"{escape(answer.body, quote=False)}"
    )
    api.send_message(chat.chat_id, text)
    return True
