"""The printed form of codes: every correct code survives every allowed typo folding, and every
single mistyped character is caught before any lookup."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.engage import codes
from app.engage.errors import CodeMalformed

CODE_SHAPE = re.compile(
    r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-"
    r"[0-9A-HJKMNP-TV-Z]$"
)


@st.composite
def printed_codes(draw: st.DrawFn) -> str:
    data = "".join(draw(st.lists(st.sampled_from(codes.ALPHABET), min_size=12, max_size=12)))
    return codes.format_code(data + codes.check_symbol(data))


# Each symbol may be typed in any of the ways the folding accepts.
TYPINGS = {"0": ["0", "o", "O"], "1": ["1", "i", "I", "l", "L"]}
SEPARATORS = ["", " ", "-", "  ", " - ", "\u2013", "\t", "\u00a0", "."]


@st.composite
def typed_as_a_person_might(draw: st.DrawFn, printed: str) -> str:
    typed = []
    for symbol in printed.replace("-", ""):
        choices = TYPINGS.get(symbol, [symbol, symbol.lower()])
        typed.append(draw(st.sampled_from(choices)))
        typed.append(draw(st.sampled_from(SEPARATORS)))
    return draw(st.sampled_from(SEPARATORS)) + "".join(typed)


@given(st.data())
def test_any_correct_code_survives_any_allowed_typo_folding(data: st.DataObject) -> None:
    printed = data.draw(printed_codes())
    typed = data.draw(typed_as_a_person_might(printed))
    assert codes.normalise(typed) == printed.replace("-", "")


@given(printed_codes(), st.integers(0, 12), st.sampled_from(codes.ALPHABET))
def test_any_single_mistyped_character_is_refused(
    printed: str, position: int, replacement: str
) -> None:
    symbols = printed.replace("-", "")
    if symbols[position] == replacement:
        return
    typo = symbols[:position] + replacement + symbols[position + 1 :]
    with pytest.raises(CodeMalformed, match="typo"):
        codes.normalise(typo)


def test_generated_codes_have_the_printed_shape_and_sixty_random_bits() -> None:
    seen = {codes.generate() for _ in range(2000)}
    assert len(seen) == 2000
    assert all(CODE_SHAPE.match(code) for code in seen)
    assert all(codes.is_valid(code.replace("-", "")) for code in seen)
    assert codes.BITS >= 60
    # every data position takes every symbol across a few thousand codes: no fixed bits
    for position in range(12):
        symbols = {code.replace("-", "")[position] for code in seen}
        assert len(symbols) == 32, position


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the code"),
        ("   --  ", "Enter the code"),
        ("7KQ2-M4XD-9RTB", "A code has 13 characters; this has 12"),
        ("7KQ2-M4XD-9RTB-TT", "this has 14"),
        ("7KQ2-M4XD-9RTB-U", "Codes never contain 'U'"),
        ("7KQ2-M4XD-9RTB-!", "Codes never contain '!'"),
        ("7KQ2-M4XD-9RTB-S", "This code has a typo"),
        ("x" * 65, "too long"),
    ],
)
def test_malformed_input_gets_a_message_that_says_what_is_wrong(typed: str, message: str) -> None:
    with pytest.raises(CodeMalformed, match=re.escape(message)):
        codes.normalise(typed)


def test_the_example_shown_to_people_is_a_valid_code() -> None:
    assert codes.normalise(codes.EXAMPLE) == "7KQ2M4XD9RTBT"
    assert codes.normalise("７ＫＱ２ m4xd 9rtb t") == "7KQ2M4XD9RTBT"  # full-width digits fold too


def test_the_stored_hash_is_keyed() -> None:
    one, other = codes.derive_key("a" * 40), codes.derive_key("b" * 40)
    assert codes.code_hash("7KQ2M4XD9RTBT", one) != codes.code_hash("7KQ2M4XD9RTBT", other)
    assert "7KQ2M4XD9RTBT" not in codes.code_hash("7KQ2M4XD9RTBT", one)
