"""Errors of sending to an address someone else chose::

WebhookError                 a webhook endpoint cannot be added, used or verified
├── UnsafeWebhookURL         not https, too long, or resolving to a non-public address
└── WebhookFailed            the endpoint did not answer as it should
    └── EndpointUnreachable  its host could not be reached at all

``str(error)`` is a message fit to show the person who chose the address.
"""

from __future__ import annotations


class WebhookError(Exception):
    pass


class UnsafeWebhookURL(WebhookError):
    pass


class WebhookFailed(WebhookError):
    pass


class EndpointUnreachable(WebhookFailed):
    """No checked address of the endpoint's host answered in time: the host is down, not the
    message refused."""

    def __init__(self, message: str, host: str) -> None:
        super().__init__(message)
        self.host = host
