"""The printed form of in-store codes: generation, the check character, normalisation, hashing.

A code is 12 random symbols of Crockford's base32 (60 bits from :mod:`secrets`) and one check
character, printed in groups: ``7KQ2-M4XD-9RTB-T``. The alphabet has no I, L, O or U, so what a
person types is folded back before checking: case, spaces and dashes do not matter, ``O`` reads
as ``0`` and ``I`` or ``L`` as ``1``.

The check character is Luhn mod 32 over the 12 symbols: it catches every single mistyped
character and most swaps of neighbours, so a typo is reported as a typo and costs no lookup.

Only :func:`code_hash` of a code (HMAC-SHA256 under the code key) is ever stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

from app.engage.errors import CodeMalformed

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DATA_SYMBOLS = 12
BITS = DATA_SYMBOLS * 5
LENGTH = DATA_SYMBOLS + 1
GROUPS = (4, 4, 4, 1)
MAX_INPUT = 64

_VALUE = {symbol: index for index, symbol in enumerate(ALPHABET)}
# Look-alikes that are not in the alphabet read as the symbol they resemble.
_FOLD = {"O": "0", "I": "1", "L": "1"}
# Anything a person may type between groups: spaces of every kind, dashes of every kind, dots.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212.·_]+")

EXAMPLE = "7KQ2-M4XD-9RTB-T"


def check_symbol(data: str) -> str:
    """The Luhn mod 32 check character of ``data`` (symbols of :data:`ALPHABET`)."""
    total, factor = 0, 2
    for symbol in reversed(data):
        addend = factor * _VALUE[symbol]
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def is_valid(symbols: str) -> bool:
    """Whether the 13 ``symbols`` end with the right check character."""
    return len(symbols) == LENGTH and check_symbol(symbols[:-1]) == symbols[-1]


def format_code(symbols: str) -> str:
    """``7KQ2M4XD9RTBT`` → ``7KQ2-M4XD-9RTB-T``."""
    parts, start = [], 0
    for size in GROUPS:
        parts.append(symbols[start : start + size])
        start += size
    return "-".join(parts)


def generate() -> str:
    """A new random code in its printed form."""
    value = secrets.randbits(BITS)
    data = "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(DATA_SYMBOLS)))
    return format_code(data + check_symbol(data))


def normalise(text: str) -> str:
    """The 13 canonical symbols of what a person typed.

    Raises :class:`CodeMalformed` when it cannot be a code: too long or short, characters outside
    the alphabet, or a check character that does not match (a typo).
    """
    if len(text) > MAX_INPUT:
        raise CodeMalformed(f"That is too long for a code. Codes look like {EXAMPLE}.")
    folded = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    folded = "".join(_FOLD.get(character, character) for character in folded)
    if not folded:
        raise CodeMalformed(f"Enter the code from your receipt. Codes look like {EXAMPLE}.")
    strangers = sorted({character for character in folded if character not in _VALUE})
    if strangers:
        shown = ", ".join(repr(character) for character in strangers[:3])
        raise CodeMalformed(
            f"Codes never contain {shown}. They use digits and the letters "
            "A to Z without I, L, O and U."
        )
    if len(folded) != LENGTH:
        raise CodeMalformed(
            f"A code has {LENGTH} characters; this has {len(folded)}. Codes look like {EXAMPLE}."
        )
    if not is_valid(folded):
        raise CodeMalformed("This code has a typo: check each character against your receipt.")
    return folded


def code_hash(symbols: str, key: bytes) -> str:
    """The keyed hash stored for a code (hex HMAC-SHA256 of its canonical symbols)."""
    return hmac.new(key, symbols.encode("ascii"), hashlib.sha256).hexdigest()


def derive_key(secret: str) -> bytes:
    """A key for :func:`code_hash` derived from a secret, separate from its other uses."""
    return hmac.new(secret.encode("utf-8"), b"pullfirst.codes", hashlib.sha256).digest()
