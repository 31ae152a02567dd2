"""Errors of the event webhooks::

    HookError              an event endpoint cannot be added or changed as asked
    ├── EndpointTaken      the address is registered already
    ├── TooManyEndpoints   :data:`app.api.hooks.MAX_ENDPOINTS` are registered already
    └── NotReplayable      the delivery to replay is not one of the endpoint's

An address that is not a public https address raises
:class:`app.outbound.errors.UnsafeWebhookURL` (the rules of members' webhooks). ``str(error)`` is
a message fit for the admin who asked.
"""

from __future__ import annotations


class HookError(Exception):
    pass


class EndpointTaken(HookError):
    pass


class TooManyEndpoints(HookError):
    pass


class NotReplayable(HookError):
    pass
