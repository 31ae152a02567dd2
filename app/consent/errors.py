"""Errors of the consent area::

ConsentError                 a consent request cannot be done; nothing was written
├── UnknownScope             no scope of that name in content/scopes.toml
├── ChannelNotOffered        the scope does not offer that channel
├── NotEarned                the member does not hold scope:<slug>
├── WordingChanged           the form showed another wording than the current one
├── StaleRequest             a toggle from an out-of-date or replayed page
├── PreferenceError          a pause or quiet hours that make no sense
├── SubscriptionError        a double opt-in request cannot be made or confirmed
│   └── NotSubscribable      the scope cannot be subscribed to by address
├── TelegramLinkError        a link to Telegram was used twice, expired, unknown, or the chat
│                            already belongs to another member; nothing was linked
├── PhoneError               a number that cannot be used, a wrong or expired code, or too
│                            many codes asked for
└── PushSubscriptionError    what a browser sent as its push subscription cannot be used

ScopeFileError               a problem in content/scopes.toml (an EditorFileError)

ReceiptError                 a consent receipt cannot be shown to be ours
├── MalformedReceipt         not a JSON object with an Ed25519 signature object
│   └── UnsupportedAlgorithm its signature names another algorithm
└── InvalidReceipt           well formed, but the signature does not hold
    ├── UnknownKey           signed by a key that is not among the keys given
    └── BadSignature         the content changed after it was signed
ReceiptKeyError              a signing key or a set of public keys cannot be read
Webhook errors are :mod:`app.outbound.errors`.
"""

from __future__ import annotations

from app.editorfiles.errors import EditorFileError


class ConsentError(Exception):
    """Base class; ``str(error)`` is a message fit to show the person who asked."""


class UnknownScope(ConsentError):
    pass


class ChannelNotOffered(ConsentError):
    pass


class NotEarned(ConsentError):
    pass


class WordingChanged(ConsentError):
    pass


class StaleRequest(ConsentError):
    pass


class PreferenceError(ConsentError):
    pass


class SubscriptionError(ConsentError):
    pass


class NotSubscribable(SubscriptionError):
    pass


class TelegramLinkError(ConsentError):
    pass


class ScopeFileError(EditorFileError):
    """A problem in the scopes file, reported as ``path:line: message``."""


class ReceiptError(Exception):
    """Base class; ``str(error)`` says in one line what is wrong with the receipt."""


class MalformedReceipt(ReceiptError):
    pass


class UnsupportedAlgorithm(MalformedReceipt):
    pass


class InvalidReceipt(ReceiptError):
    pass


class UnknownKey(InvalidReceipt):
    pass


class BadSignature(InvalidReceipt):
    pass


class ReceiptKeyError(Exception):
    """A key file, key document or key URL that cannot be used; the message names it."""


class PhoneError(ConsentError):
    """``str(error)`` says what to do; nothing was changed except the count of tries."""


class PushSubscriptionError(ConsentError):
    pass
