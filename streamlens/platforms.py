"""The four platforms: one-letter code, full name and raw export file name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Platform:
    code: str
    name: str
    filename: str


PLATFORMS: tuple[Platform, ...] = (
    Platform("a", "amazon", "amazon_prime_titles.csv"),
    Platform("d", "disney", "disney_plus_titles.csv"),
    Platform("h", "hulu", "hulu_titles.csv"),
    Platform("n", "netflix", "netflix_titles.csv"),
)
BY_CODE = {p.code: p for p in PLATFORMS}
BY_NAME = {p.name: p for p in PLATFORMS}
VALID_PLATFORM_VALUES: tuple[str, ...] = tuple(p.code for p in PLATFORMS) + tuple(p.name for p in PLATFORMS)


def parse_platform(value: str) -> Platform:
    """Accept 'n' or 'netflix' in any case; raise ValueError naming the valid values."""
    key = str(value).strip().lower()
    platform = BY_CODE.get(key) or BY_NAME.get(key)
    if platform is None:
        raise ValueError(
            f"unknown platform {value!r}; valid values: {', '.join(VALID_PLATFORM_VALUES)} (any case)"
        )
    return platform

