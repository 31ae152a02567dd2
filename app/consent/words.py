"""How the consent area puts actions and sources into words for members, and the one place
that renders the sentence of every control that says yes or stop.

A consent event records the words of the control the member used, byte for byte: the
sentences shown with it and the control's own label, in reading order, one per line
(:func:`said`). Templates render each part inside an element marked
``data-consent-words="<control>"`` (the template global ``consent_words`` is this module), and
views record :func:`said` of the very same parts, so the page and the ledger cannot disagree.
Where no member words exist (a permission lapsed, an account was deleted), the recorded
sentence says so plainly instead of inventing words.

=========================  ==============================================================
control                    recorded wording
=========================  ==============================================================
a yes box                  :attr:`Scope.wording <app.consent.scopes.Scope.wording>`, its label
a stop button              :func:`stop_sentence` (permissions page, "why did I get this?")
a switch turned on         :attr:`Scope.wording <app.consent.scopes.Scope.wording>`, shown once
                           above the switches (for texts, with the terms beside that switch)
a switch turned off        :func:`switch_off_words`: the switch's label and the save button
the unsubscribe page       :func:`unsubscribe_page_words`: its question and its button
a mail's one-click         :func:`one_click_words`: the mail's footer and its link's text
the inbox's stop           :func:`inbox_stop_words`: its sentence and its button
the team's stop            :func:`admin_stop_sentence`, the button a marketer pressed
a lapse, a deletion        :func:`lapsed_words`, :func:`deleted_words`: nobody acted
=========================  ==============================================================
"""

from __future__ import annotations

from app.consent.terms import Channel, ConsentSource
from app.engage.responses import shelf
from app.site.content import get_page, get_post

SOURCES: dict[str, str] = {
    ConsentSource.SUBSCRIBE_FORM: "the subscription form",
    ConsentSource.REWARDS_FORM: "your rewards page",
    ConsentSource.CTA_FORM: "a form on an article",
    ConsentSource.PREFERENCES: "your permissions page",
    ConsentSource.UNSUBSCRIBE_LINK: "the unsubscribe link in a message",
    ConsentSource.WHY_PAGE: "the \u201cwhy did I get this?\u201d page",
    ConsentSource.INBOX: "a message in your inbox on this site",
    ConsentSource.ADMIN: "our team, at your request",
    ConsentSource.EXPIRY: "automatically, because it lapsed without use",
    ConsentSource.DELETION: "automatically, because the account was deleted",
    ConsentSource.DEMO: "the demo data of this site",
    ConsentSource.TELEGRAM: "our bot on Telegram",
    ConsentSource.SMS: "a text message you sent us",
    ConsentSource.PUSH: "your permissions page, with notifications in this browser",
}


def source_words(source: str) -> str:
    if source in SOURCES:
        return SOURCES[source]
    if source.startswith("form:"):
        return f"the form \u201c{source.removeprefix('form:')}\u201d"
    if source.startswith("import:"):  # the importer's run: the page column says where
        return "an import from the list you were on before"
    return source


def action_words(action: str) -> str:
    """What a member did, in words, with titles and never slugs: ``survey:reader-2026`` →
    "answered the survey “Reader survey 2026”". A survey, topic or article that is gone is
    named by its kind only."""
    # scopes reads this module (the cadence's words), so it is imported here, not above.
    from app.consent.scopes import find_scope

    kind, _, ref = action.partition(":")
    if kind == "survey":
        survey = shelf().surveys.get(ref) if ref != "*" else None
        return f"answered the survey “{survey.title}”" if survey else "answered a survey"
    if kind == "subscribe":
        scope = find_scope(ref) if ref != "*" else None
        return f"subscribed to “{scope.title}”" if scope else "subscribed to a topic"
    if kind == "read":
        page = (get_post(ref) or get_page(ref)) if ref != "*" else None
        return f"read “{page.title}”" if page else "read an article"
    return {
        "account": "confirmed your email address",
        "referral": "brought a friend",
        "code": "redeemed a code from a shop receipt",
    }.get(kind, action)


CHANNELS: dict[str, str] = {
    Channel.EMAIL: "by email",
    Channel.INBOX: "in your inbox on this site",
    Channel.WEBHOOK: "by webhook",
    Channel.TELEGRAM: "on Telegram",
    Channel.SMS: "by text message",
    Channel.PUSH: "as a browser notification",
}


def channel_words(channel: str) -> str:
    return CHANNELS.get(channel, channel)


# --- the sentences of the controls that say yes or stop ------------------------------------

UNSUBSCRIBE = "Unsubscribe"
INBOX_STOP = "Stop these messages"
SAVE_CHOICES = "Save my choices"


def said(*parts: str) -> str:
    """The recorded wording of a control: its parts as shown, in reading order, one a line."""
    return "\n".join(parts)


def stop_sentence(title: str, channel: str) -> str:
    """The one-click stop button of the permissions page and of the "why did I get this?"
    page: "Stop The weekly letter by email"."""
    return f"Stop {title} {channel_words(channel)}"


def switch_off_words(label: str) -> str:
    """A channel's switch turned off and saved (one control per scope): the switch's label
    and the button that saved it."""
    return said(label, SAVE_CHOICES)


def unsubscribe_question(title: str, channel: str) -> str:
    return f"Stop {title} {channel_words(channel)}?"


def unsubscribe_page_words(title: str, channel: str) -> str:
    """The unsubscribe page: the question it asks and the button that answers it."""
    return said(unsubscribe_question(title, channel), UNSUBSCRIBE)


def mail_footer(title: str, promise: str) -> str:
    """The first line of every campaign mail's footer."""
    return f"You get this because you said yes to {title}: {promise}"


def one_click_words(title: str, promise: str) -> str:
    """A one-click unsubscribe (RFC 8058) from a mail: the footer sentence the mail carried and
    the text of the link beside it. The mail program's own button is not ours to know; these
    are the words of ours the member read in that mail about stopping it."""
    return said(mail_footer(title, promise), UNSUBSCRIBE)


def link_words_unknown(title: str, channel: str) -> str:
    """A stop through a message's unsubscribe address when the words shown with it are not
    known any more (they changed since) or there were none (a program posted to it)."""
    return (
        f"No words of ours shown with this stop are on file: the unsubscribe address of a "
        f"message about {title} {channel_words(channel)} was used, and what was shown "
        "with it has changed since, or nothing was shown."
    )


def inbox_stop_question(title: str) -> str:
    return f"We paused {title} for you. To stop it for good, on every channel:"


def inbox_stop_words(title: str) -> str:
    """The inbox's stop after "not for me": its sentence and its button."""
    return said(inbox_stop_question(title), INBOX_STOP)


def admin_stop_sentence(title: str, channel: str) -> str:
    """The button a marketer presses to record a stop the member asked for elsewhere (a reply,
    a call): the record holds the team's words, with the source ``admin``."""
    return f"Record that the member asked to stop {title} {channel_words(channel)}"


def lapsed_words(title: str, channel: str, days: int) -> str:
    """An ``expiry`` revoke: nobody acted."""
    return (
        f"Nobody pressed or typed anything: the yes to {title} {channel_words(channel)} "
        f"lapsed after {days} days without use."
    )


def deleted_words(title: str, channel: str) -> str:
    """The revoke recorded when a member deletes their account: no stop was shown or pressed."""
    return (
        f"Nobody pressed or typed a stop: the yes to {title} {channel_words(channel)} "
        "ended because the member deleted their account."
    )
