"""Platform parsing (streamlens/platforms.py): every spelling accepted, every refusal and its message."""

from __future__ import annotations

import pytest

from streamlens.platforms import BY_CODE, BY_NAME, PLATFORMS, VALID_PLATFORM_VALUES, parse_platform

EXPECTED = {"a": ("amazon", "amazon_prime_titles.csv"), "d": ("disney", "disney_plus_titles.csv"),
            "h": ("hulu", "hulu_titles.csv"), "n": ("netflix", "netflix_titles.csv")}


def test_the_four_platforms_and_their_files():
    assert {p.code: (p.name, p.filename) for p in PLATFORMS} == EXPECTED
    assert VALID_PLATFORM_VALUES == ("a", "d", "h", "n", "amazon", "disney", "hulu", "netflix")
    assert {c: p.name for c, p in BY_CODE.items()} == {c: n for c, (n, _) in EXPECTED.items()}
    assert {n: p.code for n, p in BY_NAME.items()} == {n: c for c, (n, _) in EXPECTED.items()}


def _spellings(word: str) -> list[str]:
    return [word, word.upper(), word.capitalize(), word.swapcase().capitalize(), f"  {word} ", f"\t{word.upper()}\n"]


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_a_code_or_a_name_in_any_case_with_surrounding_space_is_accepted(code):
    name = EXPECTED[code][0]
    for spelling in _spellings(code) + _spellings(name) + [name[0].upper() + name[1:-1] + name[-1].upper()]:
        assert parse_platform(spelling).code == code, spelling


@pytest.mark.parametrize("value", ["", " ", "x", "nf", "net flix", "netflix plus", "amazon prime", "prime",
                                   "disney+", "disney_plus", "n,d", "n d", "netflix_titles.csv", "ñ"])
def test_anything_else_is_refused_naming_the_value_and_the_valid_ones(value):
    with pytest.raises(ValueError) as caught:
        parse_platform(value)
    assert str(caught.value) == (f"unknown platform {value!r}; valid values: a, d, h, n, amazon, disney, hulu, "
                                 "netflix (any case)")


@pytest.mark.parametrize("value, shown", [(None, "None"), (1, "1"), (0, "0"), (["n"], "['n']")])
def test_a_value_that_is_no_string_is_refused_as_it_was_given(value, shown):
    with pytest.raises(ValueError) as caught:
        parse_platform(value)
    assert str(caught.value).startswith(f"unknown platform {shown}; valid values: a, d, h, n, ")
