"""Name matching that ignores case, accents, invisible characters and the apostrophe's spelling, shared by
the ETL (the keys of every slice and bundle) and the functions (every lookup and search), so that a query
is normalised exactly like the data it is matched against."""

from __future__ import annotations

import re
import unicodedata

# Zero-width space, non-joiner, joiner, word joiner and the byte-order mark: invisible, yet they make
# "\u200bSAINT SEIYA" (a real Netflix title) differ from what anyone types. The ETL's catalog cleaning strips
# the same set.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
INVISIBLE_RE = re.compile(f"[{INVISIBLE}]")
# Right and left single quotation marks and the modifier letter apostrophe are all typed as "'"
# ("Darwin’s Game", "Finding ‘Ohana" in the real catalogs).
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
# What str.split() splits on (str.isspace()), spelled out so that a JSON Schema pattern can say it.
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007" \
             "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def _escaped(chars: str) -> str:
    """The characters as a regex class body of \\uXXXX escapes and ranges, which ECMA 262, Rust and Python
    regular expressions all read alike."""
    points = sorted({ord(ch) for ch in chars})
    runs: list[list[int]] = []
    for point in points:
        if runs and point == runs[-1][1] + 1:
            runs[-1][1] = point
        else:
            runs.append([point, point])
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in runs)


# A value with at least one character that is neither white space nor invisible: exactly the values whose
# match_key is not empty (tested over every code point). As a JSON Schema pattern (searched, not anchored).
NOT_BLANK_PATTERN = f"[^{_escaped(WHITESPACE + INVISIBLE)}]"


def plain(text: str) -> str:
    """Invisible characters dropped and apostrophes straightened: 'Darwin’s\u200b' -> "Darwin's"."""
    return INVISIBLE_RE.sub("", str(text)).translate(APOSTROPHES)


def match_key(text: str) -> str:
    """'  Amélie  POULAIN' -> 'amelie poulain'; 'Darwin’s Game' -> "darwin's game".

    A value made only of accents and marks ('´') keeps them rather than becoming empty: only a value that
    is blank (white space and invisible characters) has an empty key."""
    text = str(text)
    if text.isascii():          # nothing to drop, straighten or decompose: the same key, without the loop
        return " ".join(text.lower().split())
    text = plain(text)
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split()) or " ".join(text.casefold().split())


def work_key(title: str, kind: str, year: int) -> str:
    """One work: the same title, type and year, whichever platforms list it (one title page, one similar
    entry); shared by the ETL's similar titles and the title routes."""
    return f"{match_key(title)}|{kind}|{year}"


SUGGESTION_CUTOFF = 60     # rapidfuzz's ratio, 0..100: difflib's 0.6 cut-off, the "did you mean" of most tools


def closest(key: str, candidates: dict[str, str], n: int = 5) -> list[str]:
    """Display names of the candidates (match key -> display name) closest to key, best first.

    rapidfuzz's ratio is difflib's ratio (the same top suggestion for 96 % of typos) computed in C: about 80
    times faster over the streaming catalog's 22,000 titles (bench/suggestions.py: 1 ms a miss, not 100)."""
    from rapidfuzz import fuzz, process  # on a miss only: no cold start pays for it

    found = process.extract(key, list(candidates), scorer=fuzz.ratio, score_cutoff=SUGGESTION_CUTOFF, limit=n)
    return [candidates[match] for match, _score, _position in found]
