"""What the local run prints once it serves: where, and three calls that work on the release it just loaded.
The names come from that release's own tables, so the sample and the real data both give working examples."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import pandas as pd

from streamlens.config import Settings
from streamlens.layout import RATINGS_TABLE, SCORES_TABLE, TITLES_TABLE
from streamlens.release import object_key, read_manifest
from streamlens.storage import ObjectStore


def _table(store: ObjectStore, manifest: dict, name: str, columns: list[str]) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(store.get(object_key(manifest, name))), columns=columns)


def example_calls(store: ObjectStore, settings: Settings, base: str) -> list[str]:
    """The longest movie of the platform and year with the most movies; the titles most like the most rated
    title; the most active user's top 5 (with a model) or that platform's top actors (without one)."""
    manifest = read_manifest(store, settings)
    titles = _table(store, manifest, TITLES_TABLE, ["id", "platform", "type", "title", "release_year"])
    scores = _table(store, manifest, SCORES_TABLE, ["id", "rating_count"])
    movies = titles[titles["type"] == "movie"]
    platform, year = movies.groupby(["platform", "release_year"], observed=True).size().idxmax()
    rated = titles.merge(scores, on="id").sort_values(["rating_count", "id"], ascending=[False, True])
    calls = [f"{base}/max-duration?{urlencode({'year': int(year), 'platform': platform, 'duration_type': 'min'})}",
             f"{base}/similar?{urlencode({'title': rated['title'].iloc[0]})}"]
    if manifest.get("model", {}).get("trained"):
        users = _table(store, manifest, RATINGS_TABLE, ["userId"])["userId"]
        calls.append(f"{base}/users/{int(users.value_counts().idxmax())}/recommendations?n=5")
    else:
        calls.append(f"{base}/actor?{urlencode({'platform': platform, 'year': int(year)})}")
    return calls


def serving_banner(base: str, calls: list[str]) -> str:
    lines = [f"streamlens is serving on {base}", f"  web page   {base}/", f"  API docs   {base}/docs", "  try:"]
    lines += [f"    curl '{call}'" for call in calls]
    lines.append("  Ctrl-C stops it.")
    return "\n".join(lines)
