"""Errors of the accounts area::

AccountError             a request about an account cannot be done
├── EmailTaken           another member has this address (case does not matter)
├── WeakPassword         outside 12 to 128 characters
├── WrongPassword        the current password does not match
├── InvalidCredentials   unknown address or wrong password (never says which)
├── NotVerified          the address has not been verified yet
├── AccountClosed        the member deleted the account
├── UnknownRole          not one of member, editor, marketer, admin
└── UnknownTimeZone      not an IANA time-zone name
"""

from __future__ import annotations


class AccountError(Exception):
    """Base class; ``str(error)`` is a message fit to show the person who asked."""


class EmailTaken(AccountError):
    pass


class WeakPassword(AccountError):
    pass


class WrongPassword(AccountError):
    pass


class InvalidCredentials(AccountError):
    pass


class NotVerified(AccountError):
    pass


class AccountClosed(AccountError):
    pass


class UnknownRole(AccountError):
    pass


class UnknownTimeZone(AccountError):
    pass
