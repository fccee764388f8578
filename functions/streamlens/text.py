"""Name matching that ignores case and accents, shared by the ETL (keys) and the functions (lookups)."""

from __future__ import annotations

import difflib
import unicodedata


def match_key(text: str) -> str:
    """'  Amélie  POULAIN' -> 'amelie poulain'."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def closest(key: str, candidates: dict[str, str], n: int = 5) -> list[str]:
    """Display names of the candidates (match key -> display name) closest to key."""
    return [candidates[k] for k in difflib.get_close_matches(key, list(candidates), n=n, cutoff=0.6)]
