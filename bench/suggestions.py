"""Why "did you mean" uses rapidfuzz: the time of one miss's suggestions over the streaming catalog's
titles, difflib (the standard library) against rapidfuzz, on the same keys and queries in the same run.

Run: python bench/suggestions.py [--data ../shared/data]. Writes
bench/results/suggestions.json. The queries are real titles with one letter changed (typos that match no
title), so both libraries have suggestions to find; how often their top suggestion agrees is reported too.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "suggestions.json"
sys.path.insert(0, str(REPO))

from etl_job.pipeline import clean_catalog_files  # noqa: E402
from etl_job.quality import QualityReport  # noqa: E402
from etl_job.sources import DataSource  # noqa: E402
from streamlens.text import SUGGESTION_CUTOFF, closest, match_key  # noqa: E402


def typos(keys: list[str], count: int, seed: int) -> list[str]:
    """Titles with one letter replaced, kept only when no title is that text."""
    rng, known, out = random.Random(seed), set(keys), []
    while len(out) < count:
        key = rng.choice(keys)
        if len(key) < 4:
            continue
        at = rng.randrange(len(key))
        typo = key[:at] + rng.choice("abcdefghijklmnopqrstuvwxyz") + key[at + 1:]
        if typo not in known:
            out.append(typo)
    return out


def per_call(fn, queries: list[str]) -> float:
    started = time.perf_counter()
    for q in queries:
        fn(q)
    return (time.perf_counter() - started) / len(queries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    shared = os.environ.get("STREAMLENS_SHARED_DATA", str(REPO.parent / "shared" / "data"))
    parser.add_argument("--data", default=shared)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    titles = clean_catalog_files(DataSource(args.data), QualityReport("catalogs"))
    names = {match_key(t): t for t in titles["display_title"]}
    keys = list(names)
    queries = typos(keys, args.queries, seed=7)

    def with_difflib(q: str) -> list[str]:
        return [names[k] for k in difflib.get_close_matches(q, keys, n=5, cutoff=SUGGESTION_CUTOFF / 100)]

    def with_rapidfuzz(q: str) -> list[str]:
        return closest(q, names)

    slow = per_call(with_difflib, queries[: max(20, args.queries // 10)])
    fast = per_call(with_rapidfuzz, queries)
    agree = sum(bool(a) and bool(b) and a[0] == b[0]
                for a, b in ((with_difflib(q), with_rapidfuzz(q)) for q in queries[:50])) / 50
    result = {"titles": len(keys), "queries": len(queries), "difflib_ms_per_miss": round(slow * 1e3, 2),
              "rapidfuzz_ms_per_miss": round(fast * 1e3, 3), "speedup": round(slow / fast, 1),
              "same_top_suggestion_share": agree}
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
