"""Cleaning of "The Movies Dataset" (TMDB metadata and credits) into one movies table.

Nested values are Python-literal strings such as
`[{'id': 16, 'name': 'Animation'}]`. Evaluating 190 MB of them with
`ast.literal_eval` is the slow part, so the fields the queries need are read
with regular expressions, and `ast.literal_eval` (safe: literals only, never
code) is used only for a value the expressions cannot read with certainty
(an escaped quote, a crew list whose keys are not in TMDB's order).
"""

from __future__ import annotations

import ast
import io
import re
from datetime import date
from itertools import islice

import numpy as np
import pandas as pd

from .catalog import check_columns
from .quality import QualityReport, join_reasons

META_COLUMNS = [
    "adult", "belongs_to_collection", "budget", "genres", "homepage", "id", "imdb_id", "original_language",
    "original_title", "overview", "popularity", "poster_path", "production_companies", "production_countries",
    "release_date", "revenue", "runtime", "spoken_languages", "status", "tagline", "title", "video",
    "vote_average", "vote_count",
]
CREDIT_COLUMNS = ["cast", "crew", "id"]
DROPPED = ["video", "imdb_id", "adult", "original_title", "poster_path", "homepage"]
NESTED = {"belongs_to_collection": "{", "genres": "[", "production_companies": "[",
          "production_countries": "[", "spoken_languages": "["}
NUMBERS = ["budget", "revenue", "popularity", "runtime", "vote_average", "vote_count"]
MONEY = ("budget", "revenue")
MAX_MONEY = 1e12            # dollars: hundreds of times any real budget or gross; it keeps every return and sum finite
MIN_RELEASE_YEAR = 1870     # TMDB's oldest entries are 1870s chronophotographs (Passage de Vénus, 1874)
YEARS_AHEAD = 5             # announced films are dated a few years ahead; year 9999 is a placeholder
MAIN_CAST = 5

_QUOTED = r"""(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")"""
_NAME = re.compile(r"'name': " + _QUOTED)
_ISO_639 = re.compile(r"'iso_639_1': " + _QUOTED)
_DIRECTOR = re.compile(r"'job': 'Director', 'name': " + _QUOTED)
_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|nan|inf|infinity)", re.IGNORECASE)


MAX_ID_DIGITS = 18          # ids are int64: 19 digits can overflow, 20 always do
_ID = re.compile(rf"0*[0-9]{{1,{MAX_ID_DIGITS}}}")      # ASCII digits: int() also takes '١٢٣'
LITERAL_ERRORS = (ValueError, SyntaxError, TypeError, MemoryError, RecursionError)

# TMDB's credits as Python writes them: a list of flat objects whose values are strings (no escape, no line
# break), integers and None. Every value this accepts, ast.literal_eval accepts as a list of dicts.
_STRING = r"'[^'\\\n\r\x00]*'" + r'|"[^"\\\n\r\x00]*"'
_PAIR = r"'[a-z_]+': (?:" + _STRING + r"|0|[1-9][0-9]*|None)"
_OBJECT = r"\{" + _PAIR + r"(?:, " + _PAIR + r")*\}"
_PLAIN_LIST = re.compile(r"\[(?:" + _OBJECT + r"(?:, " + _OBJECT + r")*)?\]")


class Unreadable(ValueError):
    """A nested value the literal grammar does not accept (truncated, an invalid escape, not a literal)."""


def is_literal(text: str, opening: str) -> bool:
    """True when ast.literal_eval accepts the value and gives the expected shape (a dict for '{', a list of
    dicts for '['), so the fast regular expressions never read what the grammar refuses."""
    try:
        value = ast.literal_eval(text)
    except LITERAL_ERRORS:
        return False
    if opening == "{":
        return isinstance(value, dict)
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def _unquote(single: str, double: str) -> str:
    text = single if single or not double else double
    if "\\" not in text:
        return text
    quote = "'" if single or not double else '"'
    try:
        return ast.literal_eval(quote + text + quote)
    except LITERAL_ERRORS as exc:
        raise Unreadable(f"unreadable escape in {text[:40]!r}") from exc


def field_values(text: str, pattern: re.Pattern = _NAME) -> list[str]:
    """Every value of one key in a nested literal, in order."""
    return [_unquote(a, b) for a, b in pattern.findall(text)] if text else []


def _whole_list(text: str) -> list[dict] | None:
    """A credits value must be a whole list of objects, or the regular expressions would read the part of a
    cut one (`[{'name': 'A'}, {'na]`). A value in TMDB's plain form passes one regular expression (under a
    second for 190 MB, where evaluating every value takes about 40 s: bench/movies_bench.py) and gives None:
    the expressions read it exactly. Any other value is evaluated, and returned to be read from its objects."""
    if not text or _PLAIN_LIST.fullmatch(text):
        return None
    try:
        value = ast.literal_eval(text)
    except LITERAL_ERRORS as exc:
        raise Unreadable("not a literal") from exc
    if not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
        raise Unreadable("not a list of objects")
    return value


def directors(crew: str) -> list[str]:
    objects = _whole_list(crew)
    if objects is None:
        found = field_values(crew, _DIRECTOR)
        if len(found) == crew.count("'Director'"):
            return found
        objects = ast.literal_eval(crew)          # plain, but a Director's keys are in another order
    names = [c.get("name") for c in objects if c.get("job") == "Director"]
    found = [name for name in names if isinstance(name, str)]
    if len(found) != len(names):
        raise Unreadable("a director without a name")
    return found


def _readable(values: pd.Series, read) -> tuple[pd.Series, pd.Series]:
    """(parsed values, ok mask): a value `read` cannot parse is marked, never raised."""
    parsed, ok = [], []
    for value in values:
        try:
            parsed.append(read(value))
            ok.append(True)
        except Unreadable:
            parsed.append(None)
            ok.append(False)
    return pd.Series(parsed, index=values.index, dtype=object), pd.Series(ok, index=values.index)


def main_cast(cast: str, size: int = MAIN_CAST) -> list[str]:
    objects = _whole_list(cast)
    if objects is None:     # only the first names are read: unquoting all of them was most of the cost
        return [_unquote(*m.groups()) for m in islice(_NAME.finditer(cast), size)]
    return [c["name"] for c in objects if isinstance(c.get("name"), str)][:size]


def _describe(row: pd.Series) -> dict:
    return {"id": row.get("id"), "title": row.get("title"), "release_date": row.get("release_date"),
            "budget": str(row.get("budget"))[:40]}


def _nested_ok(column: pd.Series, opening: str) -> pd.Series:
    """Each distinct value checked once against the literal grammar (genre lists repeat a lot)."""
    distinct = {v: is_literal(v, opening) for v in column.unique() if v}
    return column.map(lambda v: True if not v else distinct[v])


def _id_key(ids: pd.Series) -> pd.Series:
    """The integer an id names, as text: `007` and `7` are one id."""
    return ids.str.lstrip("0").replace("", "0")


def _padded_ids(group: str, ids: pd.Series, report: QualityReport) -> None:
    """Leading zeros are dropped by the integer id; recorded, since the published id differs from the text."""
    padded = ids.str.match(r"0[0-9]")
    report.repaired(group, "id_leading_zeros", int(padded.sum()),
                    [{"id": i, "after": int(i)} for i in ids[padded].head(3)])


def _reasons(meta: pd.DataFrame) -> pd.Series:
    is_id = meta["id"].str.fullmatch(_ID)
    dates = pd.to_datetime(meta["release_date"], format="%Y-%m-%d", errors="coerce")
    years = dates.dt.year
    checks = {
        "bad_id": ~is_id,
        "duplicate_id": is_id & _id_key(meta["id"]).duplicated(keep="first"),
        "bad_number": np.logical_or.reduce([(meta[c] != "") & ~meta[c].str.fullmatch(_NUMBER) for c in NUMBERS]),
        "malformed_nested_value": np.logical_or.reduce(
            [~_nested_ok(meta[c], opening) for c, opening in NESTED.items()]),
        "missing_release_date": meta["release_date"] == "",
        "bad_release_date": (meta["release_date"] != "") & (
            dates.isna() | (years < MIN_RELEASE_YEAR) | (years > date.today().year + YEARS_AHEAD)),
    }
    return join_reasons(checks, meta.index)


def _numbers(good: pd.DataFrame, report: QualityReport) -> dict[str, pd.Series]:
    """The numeric columns as floats. A value that is not a finite number (`1e400` overflows to infinity,
    `nan`, `inf`), a negative one (no budget, revenue, runtime, popularity or vote is) and an amount of money
    below one dollar or above MAX_MONEY become unknown, recorded per column: the movie itself is kept."""
    numbers = {}
    for column in NUMBERS:
        values = pd.to_numeric(good[column], errors="coerce")
        as_float = values.astype(np.float64)
        finite = np.isfinite(as_float)
        doubts = {"not_finite": (good[column] != "") & ~finite, "negative": finite & (as_float < 0)}
        if column in MONEY:
            doubts["out_of_range"] = ((as_float > 0) & (as_float < 1)) | (finite & (as_float > MAX_MONEY))
        unknown = 0.0 if column in MONEY else None
        for kind, mask in doubts.items():
            report.repaired("movies", f"{column}_{kind}", int(mask.sum()), [
                {"id": i, "field": column, "before": b, "after": unknown}
                for i, b in zip(good.loc[mask, "id"].head(3), good.loc[mask, column].head(3))])
        doubtful = np.logical_or.reduce(list(doubts.values()))
        if column in MONEY:
            numbers[column] = as_float.mask(doubtful).fillna(0.0)
        else:       # a column of whole numbers stays integers when nothing in it is unknown (vote_count)
            numbers[column] = as_float.mask(doubtful) if doubtful.any() else values
    return numbers


def clean_credits(credits: pd.DataFrame, report: QualityReport) -> pd.DataFrame:
    """Main cast and directors per movie id; unreadable or repeated ids are rejected."""
    check_columns(credits, CREDIT_COLUMNS, "credits.csv")
    credits = credits[CREDIT_COLUMNS].fillna("").astype(str)
    report.rows_in["credits"] = len(credits)
    is_id = credits["id"].str.fullmatch(_ID)
    cast, cast_ok = _readable(credits["cast"], main_cast)
    crew, crew_ok = _readable(credits["crew"], directors)
    reasons = join_reasons({"bad_id": ~is_id, "duplicate_id": is_id & _id_key(credits["id"]).duplicated(),
                            "unreadable_cast": ~cast_ok, "unreadable_crew": ~crew_ok}, credits.index)
    bad = reasons != ""
    report.rejected("credits", reasons[bad], credits[bad], lambda r: {"id": r["id"]})
    good = ~bad
    _padded_ids("credits", credits.loc[good, "id"], report)
    out = pd.DataFrame({"id": credits.loc[good, "id"].astype(np.int64), "cast": cast[good], "directors": crew[good]})
    report.rows_out["credits"] = len(out)
    return out


def clean_movies(meta: pd.DataFrame, credits: pd.DataFrame | None, report: QualityReport) -> pd.DataFrame:
    """movies_metadata (+ credits) read as strings -> one row per movie, with the queried fields parsed."""
    check_columns(meta, META_COLUMNS, "movies_metadata.csv")
    meta = meta[META_COLUMNS].fillna("").astype(str).apply(lambda c: c.str.strip())
    report.rows_in["movies"] = len(meta)
    reasons = _reasons(meta)
    bad = reasons != ""
    report.rejected("movies", reasons[bad], meta[bad], _describe)
    good = meta[~bad]
    _padded_ids("movies", good["id"], report)

    numbers = _numbers(good, report)
    budget, revenue = numbers["budget"], numbers["revenue"]
    dates = pd.to_datetime(good["release_date"], format="%Y-%m-%d")
    movies = pd.DataFrame({
        "id": good["id"].astype(np.int64),
        "title": good["title"],
        "original_language": good["original_language"],
        "overview": good["overview"],
        "tagline": good["tagline"],
        "status": good["status"],
        "popularity": numbers["popularity"],
        "runtime": numbers["runtime"],
        "vote_average": numbers["vote_average"],
        "vote_count": numbers["vote_count"],
        "budget": budget,
        "revenue": revenue,
        "return": np.where(budget > 0, revenue / budget.where(budget > 0, 1.0), 0.0),
        "release_date": dates.dt.strftime("%Y-%m-%d"),
        "release_year": dates.dt.year.astype(np.int32),
        "collection": good["belongs_to_collection"].map(lambda v: next(iter(field_values(v)), None)),
        "genres": good["genres"].map(field_values),
        "companies": good["production_companies"].map(field_values),
        "countries": good["production_countries"].map(field_values),
        "languages": good["spoken_languages"].map(lambda v: field_values(v, _ISO_639)),
    })
    if credits is not None:
        people = clean_credits(credits, report)
        movies = movies.merge(people, on="id", how="left")
        missing = movies["cast"].isna()
        for column in ("cast", "directors"):
            movies[column] = [v if isinstance(v, list) else [] for v in movies[column]]
        if missing.any():
            report.notes.append(f"{int(missing.sum()):,} movies have no credits row: empty cast and directors")
    else:
        movies["cast"] = [[] for _ in range(len(movies))]
        movies["directors"] = [[] for _ in range(len(movies))]
        report.notes.append("no credits.csv: movies have no cast or directors")
    movies = movies.reset_index(drop=True)
    report.rows_out["movies"] = len(movies)
    return movies


def movie_ratings(ratings: pd.DataFrame, links_csv: bytes, movie_ids: np.ndarray) -> tuple[pd.DataFrame, dict]:
    """ratings_small (MovieLens ids, validated: etl_job.ratings.clean_movielens_ratings) mapped through
    links.csv's tmdbId onto catalog positions.

    Returns (user, item, rating, timestamp) for the ratings of movies in the catalog, and counts of what was left out.
    """
    links = pd.read_csv(io.BytesIO(links_csv), usecols=["movieId", "tmdbId"])
    tmdb = pd.to_numeric(links["tmdbId"], errors="coerce")
    to_tmdb = pd.Series(tmdb.to_numpy(), index=links["movieId"]).dropna()
    to_tmdb = to_tmdb[~to_tmdb.index.duplicated()]
    position = pd.Series(np.arange(len(movie_ids)), index=movie_ids)
    position = position[~position.index.duplicated()]
    mapped = ratings["movieId"].map(to_tmdb)
    items = mapped.map(position)
    kept = items.notna()
    out = pd.DataFrame({"user": ratings.loc[kept, "userId"].to_numpy(), "item": items[kept].astype(np.int64).to_numpy(),
                        "rating": ratings.loc[kept, "rating"].astype(float).to_numpy(),
                        "timestamp": ratings.loc[kept, "timestamp"].to_numpy()})
    return out, {"ratings": len(ratings), "no_tmdb_id": int(mapped.isna().sum()),
                 "movie_not_in_catalog": int((mapped.notna() & ~kept).sum()), "used": len(out)}
