"""The four catalog queries as plain functions over their slices (see
etl_job.slices for how each slice is laid out and how ties are broken)."""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from .errors import BadParameter, NotFound
from .layout import ANY, slice_key
from .platforms import VALID_PLATFORM_VALUES, parse_platform

DURATION_TYPES = ("min", "season")
MIN_YEAR, MAX_YEAR = 1880, 2100


def platform_name(value: str | None, parameter: str = "platform") -> str | None:
    if value is None:
        return None
    try:
        return parse_platform(value).name
    except ValueError as exc:
        raise BadParameter(parameter, str(exc), list(VALID_PLATFORM_VALUES)) from exc


def check_year(year: int | None) -> int | None:
    if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
        raise BadParameter("year", f"year {year} is out of range", f"{MIN_YEAR}..{MAX_YEAR}")
    return year


def get_max_duration(data: dict, year: int | None = None, platform: str | None = None,
                     duration_type: str = "min") -> dict[str, Any]:
    name = platform_name(platform)
    kind = (duration_type or "min").strip().lower()
    if kind not in DURATION_TYPES:
        raise BadParameter("duration_type", f"unknown duration_type {duration_type!r}", list(DURATION_TYPES))
    check_year(year)
    row = data["answers"].get(slice_key(name or ANY, ANY if year is None else year, kind))
    if row is None:
        raise NotFound(f"no title with a duration in {kind} matches "
                       f"year={year if year is not None else 'any'}, platform={name or 'any'}")
    return dict(zip(data["fields"], row))


def get_score_count(data: dict, platform: str, scored: float, year: int) -> dict[str, Any]:
    name = platform_name(platform)
    check_year(year)
    if not 0 <= scored <= 5:
        raise BadParameter("scored", f"scored {scored} is outside the rating scale", "0..5")
    scores = data["answers"].get(slice_key(name, year), [])
    return {"platform": name, "scored": scored, "year": year, "count": len(scores) - bisect_right(scores, scored)}


def get_count_platform(data: dict, platform: str) -> dict[str, Any]:
    name = platform_name(platform)
    return {"platform": name, "count": data["answers"][name]}


def get_actor(data: dict, platform: str, year: int | None) -> dict[str, Any]:
    name = platform_name(platform)
    check_year(year)
    if name in data.get("platforms_without_titles", ()):
        raise NotFound(f"the {name} catalog has no titles in this release")
    if name in data["platforms_without_cast"]:
        raise NotFound(f"the {name} catalog has no cast data, so no actor can be named")
    answer = data["answers"].get(slice_key(name, ANY if year is None else year))
    if answer is None:
        raise NotFound(f"no {name} title lists its cast" if year is None else
                       f"no {name} title released in {year} lists its cast")
    return {"platform": name, "year": year, **answer}
