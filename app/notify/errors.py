"""Errors of the notifier. ``str(error)`` is fit to show the person who caused it.

::

    NotifyError                 base
    ├── CampaignError           a campaign cannot be saved, sent or cancelled as asked
    │   ├── DigestError         a scope has no digest to make (unknown, or no ``digest``)
    │   └── TestSendRefused     a test cannot go to this marketer (no verified address)
    ├── ConversationError       a reply or an answer is empty, too long, or not allowed
    └── SendFailed              a channel could not deliver (``temporary`` says whether to retry)
        ├── EndpointGone        a webhook endpoint answered 410: disable it, do not retry
        └── ChannelDown         the way out is down (the SMTP relay, a webhook host): nothing
                                was judged about this delivery, so it keeps its attempt
"""

from __future__ import annotations

from datetime import timedelta


class NotifyError(Exception):
    pass


class CampaignError(NotifyError):
    pass


class DigestError(CampaignError):
    pass


class TestSendRefused(CampaignError):
    pass


class ConversationError(NotifyError):
    pass


class SendFailed(NotifyError):
    """``temporary``: a retry can help. ``address_refused``: the receiver refused the member's
    address itself (for email, a hard bounce when not temporary)."""

    def __init__(self, message: str, *, temporary: bool, address_refused: bool = False) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.address_refused = address_refused


class EndpointGone(SendFailed):
    def __init__(self, message: str) -> None:
        super().__init__(message, temporary=False)


class ChannelDown(SendFailed):
    """``circuit`` names what is down (``email``, ``webhook:<host>``, ``telegram``): the worker
    stops using it for a while and tries again with backoff, and not before ``wait`` when the
    receiver said how long to wait (Telegram's ``retry_after``)."""

    def __init__(self, message: str, circuit: str, wait: timedelta | None = None) -> None:
        super().__init__(message, temporary=True)
        self.circuit = circuit
        self.wait = wait
