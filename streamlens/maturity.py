"""The platforms' maturity ratings mapped once onto five families, youngest first.

The exports mix the US film scheme (G, PG, PG-13, R, NC-17), the US TV scheme
(TV-Y ... TV-MA) and Amazon's own (ALL, 7+, 13+, 16+, 18+, with variants
such as ALL_AGES and AGES_16_). A kids profile asks for `max_maturity=kids`
and sees only titles rated for all ages. A title with no rating, or marked
not rated (NR, UR, TV-NR, UNRATED, NOT_RATE), counts as `adults`: it is
never shown under a younger limit. The ETL maps the rating before the
brief's "missing rating becomes G" rule, so that rule cannot make an unrated
title look safe for children.
"""

from __future__ import annotations

FAMILIES: tuple[str, ...] = ("kids", "older_kids", "teens", "young_adults", "adults")
RATING_FAMILY: dict[str, str] = {
    **dict.fromkeys(("g", "tv-g", "tv-y", "all", "all_ages"), "kids"),
    **dict.fromkeys(("pg", "tv-pg", "tv-y7", "tv-y7-fv", "7+"), "older_kids"),
    **dict.fromkeys(("pg-13", "tv-14", "13+"), "teens"),
    **dict.fromkeys(("16+", "16", "ages_16_"), "young_adults"),
    **dict.fromkeys(("r", "nc-17", "tv-ma", "18+", "ages_18_"), "adults"),
}
UNRATED_FAMILY = "adults"


def family_of(rating: str | None) -> str:
    """The family of a raw rating (any case); unknown, missing and not-rated values are `adults`."""
    return RATING_FAMILY.get(str(rating or "").strip().lower(), UNRATED_FAMILY)


def level(family: str) -> int:
    return FAMILIES.index(family)
