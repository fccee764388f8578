"""Every query and path parameter of the API, declared once as a FastAPI `Annotated` alias: its type, the
constraints the OpenAPI document states, and the checks that enforce exactly those (tests/integration/test_fuzz.py sends
schema-valid requests that must be accepted and schema-invalid ones that must be refused).

Statuses are those the API has always answered: a value of the wrong type is a 422 naming the parameter; a
year, score or platform outside what exists is a 400 naming the parameter and its valid values (`n`, `limit`,
`user_id` and the year filters out of range stay 422s, as pydantic answers them).

In each alias the FastAPI `Query`/`Path` comes first and the validators after it: in the other order
FastAPI writes `ge`/`le` into the document instead of `minimum`/`maximum` (tests/integration/test_functions.py checks).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from .errors import BadParameter
from .maturity import FAMILIES
from .platforms import VALID_PLATFORM_VALUES
from .queries import MAX_YEAR, MIN_YEAR, check_year
from .text import NOT_BLANK_PATTERN

MAX_PARAMETER_CHARS = 500        # any query or path value (api.reject_unknown refuses longer ones: 400)
MIN_SCORE, MAX_SCORE = 0, 5
MAX_USER_ID = 2**63 - 1
TITLE_TYPES = ("movie", "tv show")   # streamlens.recommend.TYPES (which needs numpy; equality tested)

# Integers are ASCII digits with an optional leading minus: no '+', '_', spaces, decimal point or other
# scripts' digits, which int() and pydantic's lax mode would accept ('2_020', ' 2020', '2020.0', '２０２０').
_WHOLE = re.compile(r"-?[0-9]+")
# Numbers are decimal notation (what a float prints: '3.5', '1e-05'), nothing int() or float() also reads
# ('3_5' is 35.0 to float(), 'nan', 'inf', ' 3.5', '+3.5').
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def _whole_number(value: object) -> object:
    if isinstance(value, str) and not _WHOLE.fullmatch(value):
        raise PydanticCustomError("int_parsing", "Input should be a whole number in ASCII digits, with an optional "
                                                 "leading minus and nothing else (no sign, space, separator or "
                                                 "decimal point)")
    return value


def _decimal_number(value: object) -> object:
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise PydanticCustomError("float_parsing", "Input should be a number in decimal notation (such as 3.5), "
                                                   "with nothing around it")
    return value


def _json_number(value: object) -> object:
    """In a JSON body a number is a JSON number: 10 and 10.0 are the integer 10 (as JSON Schema reads them),
    "10" and true are not numbers (pydantic's lax mode reads them as 10 and 1)."""
    if isinstance(value, (bool, str)):
        raise PydanticCustomError("number_type", "Input should be a JSON number, not a string or a boolean")
    return value


JSON_NUMBER = BeforeValidator(_json_number)


def any_case_pattern(values: Iterable[str]) -> str:
    """A JSON Schema pattern (ECMA 262, which has no case-insensitive flag) for exactly these words, any case."""
    def word(value: str) -> str:
        return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c if c in " _" else re.escape(c)
                       for c in value)

    return "^(?:" + "|".join(word(v) for v in values) + ")$"


def _one_of(parameter: str, values: tuple[str, ...], what: str) -> tuple[str, AfterValidator]:
    """(pattern, validator): the value must be one of `values` in any case, else a 400 listing them."""
    pattern = any_case_pattern(values)
    compiled = re.compile(pattern)

    def check(value: str | None) -> str | None:
        if value is not None and not compiled.fullmatch(value):
            raise BadParameter(parameter, f"unknown {what} {value!r}; valid values: {', '.join(values)} (any case)",
                               list(values))
        return value

    return pattern, AfterValidator(check)


def _year_in_range(value: int | None) -> int | None:
    return check_year(value)


def _score_in_range(value: float) -> float:
    if not MIN_SCORE <= value <= MAX_SCORE:
        raise BadParameter("scored", f"scored {value} is outside the rating scale", f"{MIN_SCORE}..{MAX_SCORE}")
    return value


PLATFORM_PATTERN, check_platform = _one_of("platform", VALID_PLATFORM_VALUES, "platform")
TYPE_PATTERN, check_type = _one_of("type", TITLE_TYPES, "type")
MATURITY_PATTERN, check_maturity = _one_of("max_maturity", FAMILIES, "maturity family")
_PLATFORM_DOC = "a, d, h, n or amazon, disney, hulu, netflix, in any case"
_YEARS = {"minimum": MIN_YEAR, "maximum": MAX_YEAR}
_WHOLE_NUMBER = BeforeValidator(_whole_number)

Platform = Annotated[str, Query(description=_PLATFORM_DOC, examples=["n"],
                                json_schema_extra={"pattern": PLATFORM_PATTERN}), check_platform]
OptionalPlatform = Annotated[str | None, Query(description=f"{_PLATFORM_DOC}; all platforms when omitted",
                                               examples=["n"], json_schema_extra={"pattern": PLATFORM_PATTERN}),
                             check_platform]
TitleType = Annotated[str | None, Query(description="movie or tv show, in any case", examples=["movie"],
                                        json_schema_extra={"pattern": TYPE_PATTERN}), check_type]
MaxMaturity = Annotated[str | None, Query(description="the oldest maturity family shown: " + ", ".join(FAMILIES)
                                                      + " (a kids profile: kids), in any case",
                                          json_schema_extra={"pattern": MATURITY_PATTERN}), check_maturity]

Year = Annotated[int, Query(description=f"release year ({MIN_YEAR}-{MAX_YEAR})", examples=[2020],
                            json_schema_extra=_YEARS), _WHOLE_NUMBER, AfterValidator(_year_in_range)]
OptionalYear = Annotated[int | None, Query(description=f"release year ({MIN_YEAR}-{MAX_YEAR}); all years when "
                                                       "omitted", examples=[2020], json_schema_extra=_YEARS),
                         _WHOLE_NUMBER, AfterValidator(_year_in_range)]
Offset = Annotated[int, Query(ge=0, description="how many matching results to skip (paging)"), _WHOLE_NUMBER]
YearBound = Annotated[int | None, Query(ge=MIN_YEAR, le=MAX_YEAR, description="release year bound"), _WHOLE_NUMBER]
Scored = Annotated[float, Query(description=f"score threshold on the {MIN_SCORE}..{MAX_SCORE} rating scale",
                                examples=[3.5], json_schema_extra={"minimum": MIN_SCORE, "maximum": MAX_SCORE}),
                   BeforeValidator(_decimal_number), AfterValidator(_score_in_range)]
UserId = Annotated[int, Query(ge=1, le=MAX_USER_ID, examples=[42],
                              description="the user's numeric id (userId in the ratings: a positive integer)"),
                   _WHOLE_NUMBER]


def how_many(maximum: int, default: int) -> tuple[Any, ...]:
    """`n`/`limit`: how many results, 1..maximum (a 422 outside), as the metadata of an int:
    `n: Annotated[int, *how_many(20, 5)] = 5` (a call is no type to a type checker; its metadata may be)."""
    return Query(ge=1, le=maximum, description=f"how many (1-{maximum}; default {default})"), _WHOLE_NUMBER


# Free text (names, titles): matched ignoring case, accents, invisible characters and the apostrophe's
# spelling (streamlens.text.match_key). A blank value (white space and invisible characters only) is a 400.
_TEXT = {"minLength": 1, "maxLength": MAX_PARAMETER_CHARS, "pattern": NOT_BLANK_PATTERN}
Text = Annotated[str, Query(description="text", json_schema_extra=_TEXT)]
OptionalText = Annotated[str | None, Query(description="text", json_schema_extra=_TEXT)]
# Names of the movies catalog, matched like any text; an unknown one is a 404 suggesting the closest.
MovieTitle = Annotated[Text, Query(description="movie title", examples=["Toy Story"])]
CollectionName = Annotated[Text, Query(description="collection (franchise) name", examples=["Toy Story Collection"])]
DirectorName = Annotated[Text, Query(description="director's name", examples=["John Lasseter"])]
LanguageCode = Annotated[Text, Query(description="original language code, as written in the data", examples=["en"])]
CountryName = Annotated[Text, Query(description="production country, as named in the data", examples=["France"])]
CompanyName = Annotated[Text, Query(description="production company", examples=["Pixar Animation Studios"])]
# Identifiers (title ids, report names): an unknown one is a 404.
_ID = {"maxLength": MAX_PARAMETER_CHARS}
TitleId = Annotated[str, Query(description="title id: platform letter + show_id", examples=["ns1"],
                               json_schema_extra=_ID)]
OptionalTitleId = Annotated[str | None, Query(description="title id: platform letter + show_id", examples=["ns1"],
                                              json_schema_extra=_ID)]
TitleIdPath = Annotated[str, Path(description="title id: platform letter + show_id", examples=["ns1"],
                                  json_schema_extra=_ID)]
UserIdPath = Annotated[UserId, Path()]
ReportName = Annotated[str, Path(description="a name listed by GET /reports", examples=["data_streaming.html"],
                                 json_schema_extra=_ID)]
