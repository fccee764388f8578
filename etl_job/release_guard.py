"""A new release must not silently lose what the live one serves.

A header-only or all-rejected export cleans to an empty catalog that is
perfectly well formed, so nothing else stops it. Before anything is written,
each catalog's title count (every platform, and the movies catalog) is held
against the live release's: a catalog that disappears, or shrinks by more
than `max_catalog_shrink` (STREAMLENS_MAX_CATALOG_SHRINK, 20 % by default),
refuses the run. The live release stays; the refusal, with the counts and the
data-quality report of the refused inputs, is kept at `refused-run.json`. A
run told to accept the loss (`--accept-shrink`, or `"accept_shrink": true` in
the ETL task's event, the state machine's input) publishes and records what it accepted in the manifest.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd

from streamlens.config import Settings
from streamlens.layout import REFUSED_RUN
from streamlens.platforms import PLATFORMS
from streamlens.release import ReleaseNotFound, read_manifest
from streamlens.storage import ObjectStore

from .catalog import InputError
from .quality import QualityReport


class ReleaseRefused(InputError):
    """The new release would lose titles the live one serves; the live release stays."""


def catalog_counts(titles: pd.DataFrame, movies: pd.DataFrame | None) -> dict[str, int]:
    """Titles per platform (0 for an empty one) and, when the data folder has one, movies."""
    per_platform = titles["platform"].astype(str).value_counts()
    counts = {p.name: int(per_platform.get(p.name, 0)) for p in PLATFORMS}
    if movies is not None:
        counts["movies"] = len(movies)
    return counts


def shrinkage(live: dict[str, int], new: dict[str, int], max_shrink: float) -> list[str]:
    """One sentence per catalog that disappears or loses more than max_shrink of its titles."""
    problems = []
    for name, before in live.items():
        after = new.get(name, 0)
        if before and after == 0:
            problems.append(f"{name}: {before:,} titles live, none in the new release")
        elif before and (before - after) / before > max_shrink:
            problems.append(f"{name}: {before:,} titles live, {after:,} in the new release "
                            f"({(before - after) / before:.0%} fewer; the limit is {max_shrink:.0%})")
    return problems


def live_counts(store: ObjectStore, settings: Settings) -> dict[str, int] | None:
    """The live release's per-catalog counts; None when nothing is live or it predates them."""
    try:
        return read_manifest(store, settings).get("counts", {}).get("catalogs")
    except ReleaseNotFound:
        return None


def check_release(store: ObjectStore, settings: Settings, counts: dict[str, int], accept: bool,
                  reports: dict[str, QualityReport]) -> list[str]:
    """The losses accepted (empty when there are none); ReleaseRefused when there are and `accept` is off.
    The quality reports are rendered into the refusal only when there is one."""
    live = live_counts(store, settings)
    problems = shrinkage(live, counts, settings.max_catalog_shrink) if live else []
    if problems and not accept:
        refusal = {"refused_at": datetime.now(UTC).isoformat(timespec="seconds"),
                   "problems": problems, "live_counts": live, "new_counts": counts,
                   "quality": {name: report.to_dict() for name, report in reports.items()}}
        store.put(settings.prefix + REFUSED_RUN, json.dumps(refusal, indent=1, default=str).encode(),
                  "application/json")
        raise ReleaseRefused(
            "the new release would lose titles the live one serves, so it was not published and the live "
            f"release stays: {'; '.join(problems)}. The data-quality report of these inputs is in "
            f"{REFUSED_RUN}. If the loss is real, run again with --accept-shrink "
            "(in AWS, the ETL state machine's input {\"accept_shrink\": true})")
    return problems
