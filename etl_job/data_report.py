"""The data report of each catalog, rendered from the release the ETL publishes.

Every number a caption quotes is computed here from the cleaned data (or the
quality report), never typed. Charts that do not need every row (scatter
plots) use a fixed-seed sample, so the report stays fast at 11 million ratings.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from wordcloud import STOPWORDS, WordCloud

from .report_html import Page, axes

SCATTER_SAMPLE = 20_000
MULTI_VALUED = ("director", "cast", "country", "listed_in")     # the catalog's ', '-joined name lists
TOP = 10
TOP_VALUES = 3              # values per column in the overview: enough to see what dominates, short enough to scan
LONG_TEXT_CHARS = 60        # a text column whose median value is longer is prose: its lengths say more than its values
ISO_DATE = r"\d{4}-\d{2}-\d{2}"

# Alert thresholds: each the point where a data scientist should look before using the column.
MISSING_ALERT = 0.25        # a quarter missing: the column needs imputation or a missing flag before it is a feature
EMPTY_ON_PLATFORM = 0.90    # missing on one platform and filled on another: an export gap, not sparse data
FILLED_ELSEWHERE = 0.50     # ... "filled" meaning at most half missing on some other platform
NEAR_CONSTANT = 0.95        # one value in 95 % of the rows: the column carries almost no information
HIGH_CARDINALITY = 25       # more levels than this: too many to one-hot encode or to chart without grouping
CATEGORICAL_SHARE = 0.05    # a short-text column with distinct values under 5 % of its rows is a category
SKEW = 2.0                  # |skewness| above 2: means and linear models mislead; use logs, ranks or medians
ZERO_AS_MISSING = 0.25      # a quarter zeros in an amount that cannot be zero: zeros stand for "unknown"
CROSS_PLATFORM_SHARE = 0.01  # 1 % of titles on several platforms: counts across platforms double-count them
IMBALANCE = 5.0             # largest catalog over smallest: per-platform comparisons weigh the small one little
SCORE_SHARE = 0.5           # one score in half of the ratings: the scale is barely used, errors look small
TOP_TITLES = 0.10           # the most-rated tenth of the titles ...
TOP_TITLES_SHARE = 0.5      # ... holding half of the ratings: a popularity-biased long tail
UNRATED_SHARE = 0.01        # 1 % of titles with no rating: the recommender can rank them only by content
EARLIEST_YEAR = 1900        # release years before are implausible for these catalogs (or typos)
STREAMING_SINCE = 2007      # dates added before Netflix began streaming (January 2007) predate the platforms


def _as_list(value) -> list[str]:
    """A ', '-joined string or a list of names -> the distinct names, in order."""
    if isinstance(value, str):
        value = value.split(",")
    elif not isinstance(value, (list, tuple, np.ndarray)):
        return []
    return list(dict.fromkeys(p.strip() for p in value if isinstance(p, str) and p.strip()))


def top_names(frame: pd.DataFrame, column: str, by: str | None = None, n: int = 5) -> pd.DataFrame:
    """The n names of a column listed by the most titles (per `by` group); ties by name A-Z."""
    keys = [by] if by else []
    exploded = pd.DataFrame({"name": frame[column].map(_as_list).to_numpy(),
                             **{k: frame[k].astype(str).to_numpy() for k in keys}}).explode("name").dropna()
    counts = exploded.groupby([*keys, "name"]).size().rename("titles").reset_index()
    counts = counts.sort_values([*keys, "titles", "name"], ascending=[True] * len(keys) + [False, True])
    return (counts.groupby(by).head(n) if by else counts.head(n)).reset_index(drop=True)


def title_words(titles: pd.Series) -> Counter:
    """Words of the titles, lowercased, English stop words and single letters removed."""
    stop = {w.lower() for w in STOPWORDS}
    words = (w for t in titles.dropna().astype(str) for w in re.findall(r"[^\W\d_]{2,}", t.lower()))
    return Counter(w for w in words if w not in stop)


# -- captions that tie honestly --------------------------------------------------------------------------------

def names(items: Sequence[str], limit: int = 4) -> str:
    """['a'] -> 'a'; ['a', 'b', 'c'] -> 'a, b and c'; past `limit`, 'a, b, c, d and 3 more'."""
    items = list(items)
    if len(items) > limit:
        return f"{', '.join(items[:limit])} and {len(items) - limit} more"
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def extremes(values: pd.Series, show: Callable[[Any], str], largest: bool = True) -> tuple[list, str]:
    """The labels at the top (or bottom) of values and that value as `show` prints it; values that print the same
    tie, so a caption never names one of several equal figures as the most."""
    best = show(values.max() if largest else values.min())
    return [label for label, value in values.items() if show(value) == best], best


def plural(count: int, noun: str) -> str:
    """(1, 'title') -> '1 title'; (2, 'title') -> '2 titles'."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _pct(value: float) -> str:
    return f"{value:.0%}"


def _fixed2(value: float) -> str:
    return f"{value:.2f}"


def _count(value: int) -> str:
    return f"{value:,}"


def genre_overlap_caption(pairs: pd.Series) -> str:
    """pairs: Jaccard per (platform, platform), each pair once. The most and least alike pairs, ties named."""
    def pair_list(found: list) -> str:
        shown = [f"{a} and {b}" for a, b in found[:3]]
        return ", ".join(shown) + (f" and {len(found) - 3} more pairs" if len(found) > 3 else "")

    if pairs.empty:
        return "a single platform, nothing to compare"
    most, high = extremes(pairs, _fixed2)
    least, low = extremes(pairs, _fixed2, largest=False)
    if len(pairs) == 1:
        return f"{pair_list(most)} overlap {high}"
    if high == low:
        return f"all {len(pairs)} platform pairs are equally alike ({high})"
    return (f"the most alike are {pair_list(most)} ({'tied at ' if len(most) > 1 else ''}{high}), "
            f"the least {pair_list(least)} ({'tied at ' if len(least) > 1 else ''}{low})")


# -- the column overview ---------------------------------------------------------------------------------------

def _is_list(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def missing_mask(series: pd.Series) -> pd.Series:
    """Null, a blank string or an empty list: what a reader of the column calls missing."""
    mask = series.isna()
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        empty = series.map(lambda v: (isinstance(v, str) and not v.strip()) or (_is_list(v) and len(v) == 0))
        mask |= empty.astype(bool)
    return mask


@dataclass(frozen=True)
class ColumnProfile:
    column: str
    dtype: str
    kind: str                       # number, date, category, list, text (prose), value
    rows: int
    missing: int
    distinct: int                   # distinct values; for lists, distinct names
    top: list[tuple[Any, int]]      # the most frequent values (names, for lists) with their rows, ties A-Z
    summary: str                    # numbers: range and median; dates: range; prose: lengths in characters

    @property
    def missing_share(self) -> float:
        return self.missing / self.rows if self.rows else 0.0

    @property
    def top_share(self) -> float:
        """Share of the non-missing rows holding the most frequent value (listing the most frequent name)."""
        filled = self.rows - self.missing
        return self.top[0][1] / filled if self.top and filled else 0.0


def _names_of(filled: pd.Series) -> pd.Series:
    """Each row's distinct names, one per entry: ', '-joined strings split, lists exploded, blanks dropped."""
    parts = filled.reset_index(drop=True).map(lambda v: v.split(",") if isinstance(v, str) else v)
    found = parts.explode().dropna().astype("str").str.strip()
    found = found[found != ""]
    codes, uniques = pd.factorize(found)
    repeated = pd.Series(found.index.to_numpy(np.int64) * max(1, len(uniques)) + codes).duplicated().to_numpy()
    return found[~repeated]


def _most_frequent(counts: pd.Series, n: int) -> list[tuple[Any, int]]:
    """The n largest counts, ties A-Z (sorting only the candidates, not every distinct value)."""
    if counts.empty:
        return []
    candidates = counts[counts >= counts.nlargest(n).min()]
    return sorted(((_plain(v), int(c)) for v, c in candidates.items()), key=lambda vc: (-vc[1], str(vc[0])))[:n]


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _number(value) -> str:
    return f"{value:.6g}"


def column_profile(series: pd.Series, multi_valued: bool = False) -> ColumnProfile:
    """One column's overview. multi_valued: ', '-joined names (lists are detected); each name counts once per row."""
    missing = missing_mask(series)
    filled = series[~missing]
    is_list = multi_valued or (len(filled) > 0 and _is_list(filled.iloc[0]))
    values = _names_of(filled) if is_list else filled
    counts = values.astype(object).value_counts() if len(values) else pd.Series(dtype="int64")
    counts = counts[counts > 0]
    summary, kind = "", "list" if is_list else "value"
    numeric = pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
    if is_list:
        pass
    elif numeric:
        kind = "number"
        if len(filled):
            numbers = filled.astype(float)
            summary = f"{_number(numbers.min())} to {_number(numbers.max())}, median {_number(numbers.median())}"
    elif isinstance(series.dtype, pd.CategoricalDtype):
        kind = "category"
    elif len(filled) and filled.astype(str).str.fullmatch(ISO_DATE).all():
        kind, summary = "date", f"{filled.min()} to {filled.max()}"
    elif len(filled) and filled.astype(str).str.len().median() > LONG_TEXT_CHARS:
        lengths = filled.astype(str).str.len()
        kind, summary = "text", (f"{lengths.min():,} to {lengths.max():,} characters, "
                                 f"median {lengths.median():,g}")
    elif len(filled) and len(counts) < CATEGORICAL_SHARE * len(filled):
        kind = "category"
    top = [] if kind == "text" or (len(counts) and counts.max() == 1) else _most_frequent(counts, TOP_VALUES)
    return ColumnProfile(str(series.name), str(series.dtype), kind, len(series), int(missing.sum()), len(counts),
                         top, summary)


def column_overview(frame: pd.DataFrame, multi_valued: Sequence[str] = ()) -> list[ColumnProfile]:
    """Every column of a cleaned table, in its order."""
    return [column_profile(frame[c], c in multi_valued) for c in frame.columns]


def _top_text(profile: ColumnProfile) -> str:
    if profile.kind == "text":
        return "(prose: see its lengths)"
    if not profile.top:
        return "all distinct" if profile.distinct else ""
    shown = lambda v: _number(v) if isinstance(v, float) else str(v)                         # noqa: E731
    return ", ".join(f"{shown(v)} ({n:,})" for v, n in profile.top)


def _overview_section(page: Page, profiles: list[ColumnProfile], what: str) -> None:
    page.section(f"Columns of the {what} table")
    page.text(f"Each column of the cleaned {what} table as published. Missing counts nulls, blank strings and empty "
              f"lists. Top values are the {TOP_VALUES} most frequent (rows holding each; ties A-Z); for lists of "
              f"names (genres, cast, countries...) each name counts once per row, and distinct counts names. Prose "
              f"columns (median over {LONG_TEXT_CHARS} characters, e.g. descriptions) show their lengths instead, "
              "and a column with no repeated value says 'all distinct'.")
    table = pd.DataFrame([{"column": p.column, "type": p.dtype + (", list of names" if p.kind == "list" else ""),
                           "missing": p.missing, "% missing": round(100 * p.missing_share, 1),
                           "distinct": p.distinct, "top values (rows)": _top_text(p), "range or length": p.summary}
                          for p in profiles])
    page.table(f"overview_{what}", table, f"The {len(profiles)} columns of the {what} table "
                                          f"({profiles[0].rows:,} rows).", index=False)


# -- alerts ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Alert:
    check: str          # which check fired: missing, constant, cardinality, skew, duplicates, ...
    subject: str        # the column or figure it is about
    text: str           # one sentence, with the figure


def column_alerts(profiles: list[ColumnProfile]) -> list[Alert]:
    """High missing shares, constant or near-constant columns, high-cardinality categories."""
    alerts = []
    for p in profiles:
        if p.missing_share > MISSING_ALERT:
            alerts.append(Alert("missing", p.column, f"{p.column} is missing in {p.missing_share:.1%} of the rows "
                                                     f"({p.missing:,} of {p.rows:,}; alert above "
                                                     f"{MISSING_ALERT:.0%})."))
        if p.distinct == 1 and p.rows > p.missing:
            alerts.append(Alert("constant", p.column, f"{p.column} holds a single value ({p.top[0][0]}) in every "
                                                      "filled row: it carries no information."))
        elif p.kind != "list" and p.top_share >= NEAR_CONSTANT:
            alerts.append(Alert("constant", p.column, f"{p.column} is nearly constant: {p.top[0][0]} in "
                                                      f"{p.top_share:.1%} of the filled rows (alert from "
                                                      f"{NEAR_CONSTANT:.0%})."))
        if p.kind == "category" and p.distinct > HIGH_CARDINALITY:
            alerts.append(Alert("cardinality", p.column, f"{p.column} is a category with {p.distinct:,} distinct "
                                                         f"values (alert above {HIGH_CARDINALITY}): group them "
                                                         "before encoding or charting."))
    return alerts


def skew_alerts(series: dict[str, pd.Series]) -> list[Alert]:
    """Numeric figures (named as the report names them) whose skewness passes SKEW either way."""
    alerts = []
    for name, values in series.items():
        skew = values.dropna().astype(float).skew()
        if pd.notna(skew) and abs(skew) > SKEW:
            side = "right (a long tail of large values)" if skew > 0 else "left (a long tail of small values)"
            alerts.append(Alert("skew", name, f"{name} is skewed to the {side}: skewness {skew:.1f} (alert beyond "
                                              f"±{SKEW:g})."))
    return alerts


def duplicate_row_alerts(frame: pd.DataFrame, ignore: Sequence[str], what: str) -> list[Alert]:
    """Rows equal in every column but their identifiers; what: the singular noun of a row ('title')."""
    rest = frame.drop(columns=list(ignore))
    lists = [c for c in rest.columns if rest[c].dtype == object and rest[c].map(_is_list).any()]
    repeated = int(rest.assign(**{c: rest[c].map(lambda v: tuple(v) if _is_list(v) else v) for c in lists})
                   .duplicated().sum())
    if not repeated:
        return []
    return [Alert("duplicates", "rows", f"{plural(repeated, what)} {'repeats' if repeated == 1 else 'repeat'} an "
                                        f"earlier row in every column but {names(list(ignore))}: drop "
                                        f"{'it' if repeated == 1 else 'them'} or count once.")]


def zero_alerts(frame: pd.DataFrame, columns: Sequence[str]) -> list[Alert]:
    """Amounts whose zeros stand for "unknown" (a budget of 0), over ZERO_AS_MISSING."""
    alerts = []
    for column in columns:
        share = float((frame[column] == 0).mean())
        if share > ZERO_AS_MISSING:
            alerts.append(Alert("zeros", column, f"{column} is 0 in {share:.0%} of the rows (alert above "
                                                 f"{ZERO_AS_MISSING:.0%}): treat those zeros as missing."))
    return alerts


def year_alerts(years: pd.Series, what: str) -> list[Alert]:
    """Release years before EARLIEST_YEAR or after this year; what: the singular noun of a row."""
    this_year = date.today().year
    early, late = int((years < EARLIEST_YEAR).sum()), int((years > this_year).sum())
    if not (early or late):
        return []
    return [Alert("dates", "release_year", f"{plural(early + late, what)} released outside {EARLIEST_YEAR}-"
                                           f"{this_year} ({early:,} before, {late:,} after; range "
                                           f"{years.min()}-{years.max()}).")]


def catalog_alerts(titles: pd.DataFrame) -> list[Alert]:
    """What only a multi-platform catalog has: a column empty on one platform, titles on several platforms,
    platforms of very different sizes, dates added before release or before streaming began."""
    alerts = []
    platform = titles["platform"].astype(str)
    missing = titles.drop(columns=["id", "platform", "show_id"]).apply(missing_mask).groupby(platform).mean()
    for column in missing.columns:
        for name, share in missing[column].items():
            others = missing[column].drop(name)
            if share >= EMPTY_ON_PLATFORM and len(others) and others.min() <= FILLED_ELSEWHERE:
                spread = _pct(others.min()) if _pct(others.min()) == _pct(others.max()) else \
                    f"{_pct(others.min())} to {_pct(others.max())}"
                alerts.append(Alert("platform_gap", column, f"{column} is missing for {share:.0%} of {name}'s "
                                                            f"titles but for {spread} on the other platforms: an "
                                                            f"export gap, so figures of {column} describe the "
                                                            "others."))
    key = titles["title"].str.lower().str.strip() + " (" + titles["release_year"].astype(str) + ")"
    on_platforms = platform.groupby(key).nunique()
    several = int((on_platforms > 1).sum())
    if several > CROSS_PLATFORM_SHARE * len(on_platforms):
        alerts.append(Alert("cross_platform", "title", f"{plural(several, 'title')} (same title and release year) "
                                                       f"{'is' if several == 1 else 'are'} on more than one "
                                                       f"platform, {several / len(on_platforms):.1%} "
                                                       f"of the distinct titles (alert above "
                                                       f"{CROSS_PLATFORM_SHARE:.0%}): count them once across "
                                                       "platforms."))
    sizes = platform.value_counts()
    if len(sizes) > 1 and sizes.max() > IMBALANCE * sizes.min():
        alerts.append(Alert("imbalance", "platform", f"The largest catalog ({names(extremes(sizes, _count)[0])}, "
                                                     f"{sizes.max():,} titles) is {sizes.max() / sizes.min():.1f} "
                                                     f"times the smallest ({names(extremes(sizes, _count, False)[0])}"
                                                     f", {sizes.min():,}; alert above {IMBALANCE:g}x): weigh "
                                                     "platforms, not titles, when comparing them."))
    added = pd.to_datetime(titles["date_added"], errors="coerce")
    before_release = int((added.dt.year < titles["release_year"]).sum())
    if before_release:
        alerts.append(Alert("dates", "date_added", f"{plural(before_release, 'title')} added before the year of "
                                                   "release: one of the two dates is wrong."))
    early = added < pd.Timestamp(STREAMING_SINCE, 1, 1)
    if early.any():
        alerts.append(Alert("dates", "date_added", f"{plural(int(early.sum()), 'title')} added before "
                                                   f"{STREAMING_SINCE}, when streaming began (earliest "
                                                   f"{added.min():%Y-%m-%d}, on "
                                                   f"{names(sorted(set(platform[early])))})."))
    future = added > pd.Timestamp(date.today())
    if future.any():
        alerts.append(Alert("dates", "date_added", f"{plural(int(future.sum()), 'title')} added in the future "
                                                   f"(latest {added.max():%Y-%m-%d})."))
    return alerts + year_alerts(titles["release_year"], "title")


def rating_alerts(ratings: pd.DataFrame, rating_count: pd.Series, item_names: str) -> list[Alert]:
    """ratings: rating per row; rating_count: ratings per catalog item (0 for the unrated)."""
    alerts = []
    scores = ratings["rating"].value_counts(normalize=True)
    common, share = extremes(scores, _pct)
    if scores.max() > SCORE_SHARE:
        alerts.append(Alert("concentration", "rating", f"{share} of the ratings are {names([f'{v:g}' for v in common])}"
                                                       f" (alert above {SCORE_SHARE:.0%}): a model predicting it "
                                                       "everywhere already looks good."))
    counts = rating_count.sort_values(ascending=False).to_numpy()
    head = max(1, int(np.ceil(TOP_TITLES * len(counts))))
    held = counts[:head].sum() / counts.sum() if counts.sum() else 0.0
    if held > TOP_TITLES_SHARE:
        alerts.append(Alert("concentration", "rating_count", f"The {TOP_TITLES:.0%} most-rated {item_names}s hold "
                                                             f"{held:.0%} of the ratings (alert above "
                                                             f"{TOP_TITLES_SHARE:.0%}): evaluate beyond the popular "
                                                             "head."))
    unrated = int((rating_count == 0).sum())
    if unrated > UNRATED_SHARE * len(rating_count):
        alerts.append(Alert("unrated", "rating_count", f"{plural(unrated, item_names)} "
                                                       f"({unrated / len(rating_count):.1%}; alert above "
                                                       f"{UNRATED_SHARE:.0%}) without a rating: only their content "
                                                       "can place them."))
    return alerts


def _alerts_section(page: Page, alerts: list[Alert]) -> None:
    page.section("Alerts")
    page.text("What to check first before using these tables, each with its figure and the threshold that raised "
              "it (constants in etl_job/data_report.py).")
    page.bullets("alerts", [a.text for a in alerts] or ["No alerts: every check passed."])


def _word_cloud(page: Page, titles: pd.Series, what: str) -> None:
    counts = title_words(titles)
    if not counts:
        return
    cloud = WordCloud(width=900, height=380, background_color="white", random_state=1,
                      max_words=150).generate_from_frequencies(counts)
    fig, ax = axes(9, 3.8)
    ax.imshow(cloud, interpolation="bilinear")
    ax.axis("off")
    page.figure("title_word_cloud", fig, f"The most frequent words in {what} titles (stop words removed): "
                                         f"{word_leaders(counts)}.")


def word_leaders(counts: Counter) -> str:
    """The leading word(s) and the runner(s)-up, ties named together."""
    frequency = pd.Series(counts)
    first, n1 = extremes(frequency, _count)
    quoted = lambda words: names([f"'{w}'" for w in sorted(words)])                               # noqa: E731
    if len(first) > 1:
        return f"{quoted(first)} lead, {n1} times each"
    rest = frequency.drop(first)
    if rest.empty:
        return f"{quoted(first)} is the only word ({n1} times)"
    second, n2 = extremes(rest, _count)
    return f"{quoted(first)} leads ({n1} times), then {quoted(second)} ({n2}{' each' if len(second) > 1 else ''})"


def _quality_tables(page: Page, quality: dict) -> None:
    repairs = [{"group": g, "repair": k, "rows": n} for g, kinds in quality.get("repairs", {}).items()
               for k, n in kinds.items()]
    rejects = [{"group": g, "reason": k, "rows": n} for g, kinds in quality.get("rejects", {}).items()
               for k, n in kinds.items()]
    total = sum(r["rows"] for r in rejects)
    if repairs:
        page.table("repairs", pd.DataFrame(repairs), "What the ETL repaired (rows per repair, from the quality "
                                                     "report).", index=False)
    page.table("rejects", pd.DataFrame(rejects or [{"group": "-", "reason": "none", "rows": 0}]),
               f"What the ETL rejected: {total:,} rows, each kept with its reason in the rejects report.",
               index=False)


def _ratings_section(page: Page, ratings: pd.DataFrame, item_names: str, origin: str) -> None:
    """ratings: user, item, rating, timestamp (unix seconds)."""
    page.section("Ratings")
    page.text(f"{len(ratings):,} ratings from {ratings['user'].nunique():,} users ({origin}).")
    per_user = ratings.groupby("user").size()
    per_item = ratings.groupby("item").size()
    fig, (left, right) = axes(10, 3.6, ncols=2)
    for ax, counts, who in ((left, per_user, "user"), (right, per_item, item_names)):
        bins = np.unique(np.logspace(0, np.log10(max(counts.max(), 2)), 30).astype(int))
        ax.hist(counts, bins=bins)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"ratings per {who}")
        ax.set_ylabel(f"{who}s")
    page.figure("ratings_per_user_and_title", fig,
                f"Ratings per user and per {item_names} (log scales): the median user rated "
                f"{per_user.median():g} and the most active {per_user.max():,}; the median {item_names} has "
                f"{per_item.median():g} ratings and the most rated {per_item.max():,}.")
    scores = ratings["rating"].value_counts().sort_index()
    fig, ax = axes()
    ax.bar(scores.index.astype(str), scores.to_numpy())
    ax.set_xlabel("rating")
    ax.set_ylabel("ratings")
    common, share = extremes(scores / len(ratings), _pct)
    most = (f"the most common score {common[0]:g} ({share} of ratings)" if len(common) == 1 else
            f"the most common scores {names([f'{v:g}' for v in common])} ({share} of ratings each)")
    page.figure("score_distribution", fig, f"Distribution of the scores: the mean is {ratings['rating'].mean():.2f} "
                                           f"and {most}.")
    month, counts = np.unique(ratings["timestamp"].to_numpy(np.int64).astype("datetime64[s]").astype("datetime64[M]"),
                              return_counts=True)
    fig, ax = axes()
    ax.plot(month.astype("datetime64[D]"), counts)
    ax.set_ylabel("ratings per month")
    busiest, most = extremes(pd.Series(counts, index=month.astype(str)), _count)
    page.figure("activity_over_time", fig, f"Ratings per month, {month[0]} to {month[-1]}; the busiest "
                                           + (f"month is {busiest[0]} with {most}." if len(busiest) == 1 else
                                              f"months are {names(busiest)} with {most} each."))


def _longest(frame: pd.DataFrame, minutes: str) -> str:
    """The longest entry (or entries, when tied) by title (and platform, when the frame has one)."""
    values = frame[minutes].dropna().astype(float)
    if values.empty:
        return "no entry has a length"
    top, length = extremes(values, _number)
    label = lambda row: f"'{row['title']}'" + (f" ({row['platform']})" if "platform" in row else "")   # noqa: E731
    found = [label(frame.loc[i]) for i in top]
    return (f"the longest is {found[0]}, {length} min" if len(found) == 1 else
            f"the longest, tied at {length} min, are {names(found)}")


def streaming_report(titles: pd.DataFrame, scores: pd.DataFrame, ratings: pd.DataFrame, quality: dict,
                     ratings_origin: str, seed: int = 1) -> bytes:
    """titles: the cleaned catalog; scores: id, score, rating_count; ratings: user, item (catalog position),
    rating, timestamp; quality: the catalogs section of reports/quality.json."""
    page = Page("streamlens data report: streaming catalogs",
                f"{len(titles):,} titles on {titles['platform'].nunique()} platforms, from the release the ETL "
                "published. Every number below is computed from that release.")
    platform = titles["platform"].astype(str)
    profiles = column_overview(titles, MULTI_VALUED)
    movie_minutes = titles.loc[titles["duration_type"] == "min", "duration_int"]
    show_seasons = titles.loc[titles["duration_type"] == "season", "duration_int"]
    _alerts_section(page, [*column_alerts(profiles), *duplicate_row_alerts(titles, ["id", "show_id"], "title"),
                           *catalog_alerts(titles),
                           *skew_alerts({"release_year": titles["release_year"], "movie minutes": movie_minutes,
                                         "show seasons": show_seasons, "ratings per title": scores["rating_count"],
                                         "ratings per user": ratings.groupby("user").size()}),
                           *rating_alerts(ratings, scores["rating_count"], "title")])
    _overview_section(page, profiles, "titles")
    page.section("Volume and completeness")
    volume = pd.crosstab(platform, titles["type"].astype(str))
    biggest, size = extremes(volume.sum(axis=1), _count)
    largest = (f"{biggest[0]} is the largest catalog ({size} titles)" if len(biggest) == 1 else
               f"{names(biggest)} are the largest catalogs ({size} titles each)")
    fig, ax = axes()
    volume.plot.bar(ax=ax, stacked=True, rot=0)
    ax.set_ylabel("titles")
    page.figure("titles_per_platform_and_type", fig,
                f"Titles per platform and type: {largest}; movies are {(titles['type'] == 'movie').mean():.0%} of "
                "all titles.")
    missing = titles.drop(columns=["id", "platform", "show_id"]).apply(missing_mask).groupby(platform).mean()
    emptiest, worst = extremes(missing.stack(), _pct)
    where = [f"{column} on {name}" for name, column in emptiest]
    fig, ax = axes(9, 2.8)
    image = ax.imshow(missing.to_numpy(), aspect="auto", cmap="Reds", vmin=0, vmax=1)
    ax.set_xticks(range(missing.shape[1]), missing.columns, rotation=45, ha="right")
    ax.set_yticks(range(missing.shape[0]), missing.index)
    fig.colorbar(image, ax=ax, label="share missing")
    page.figure("missing_values", fig, "Share of missing values per column and platform: " + (
        "nothing is missing." if worst == _pct(0) else f"the emptiest is {where[0]} ({worst} missing)."
        if len(where) == 1 else f"the emptiest, tied at {worst} missing, are {names(where)}."))
    keyed = titles.assign(key=titles["title"].str.lower().str.strip() + " (" + titles["release_year"].astype(str) + ")")
    within = keyed.duplicated(["platform", "key"], keep=False)
    across = keyed.groupby("key")["platform"].nunique()
    page.table("duplicates", pd.DataFrame({"titles": [int(within.sum()), int((across > 1).sum())]},
                                          index=["same title and year within one platform",
                                                 "same title and year on more than one platform"]),
               "Duplicates by title and release year.")
    _quality_tables(page, quality)

    page.section("Distributions and outliers")
    fig, ax = axes()
    for name, years in titles.groupby(platform)["release_year"]:
        ax.hist(years, bins=range(int(titles["release_year"].min()), int(titles["release_year"].max()) + 2, 2),
                histtype="step", label=name)
    ax.legend()
    ax.set_xlabel("release year")
    medians = titles.groupby(platform)["release_year"].median()
    oldest, low = extremes(medians, _number, largest=False)
    newest, high = extremes(medians, _number)
    page.figure("release_years", fig, "Release years per platform: " + (
        f"the median is {low} on every platform." if low == high else
        f"the median ranges from {low} ({names(oldest)}) to {high} ({names(newest)})."))
    movies = titles[titles["duration_type"] == "min"]
    shows = titles[titles["duration_type"] == "season"]
    fig, (left, right) = axes(10, 3.6, ncols=2)
    groups = list(movies.groupby(movies["platform"].astype(str))["duration_int"])
    left.boxplot([g.dropna().to_numpy() for _, g in groups], tick_labels=[n for n, _ in groups])
    left.set_ylabel("movie minutes")
    seasons = pd.crosstab(shows["platform"].astype(str), shows["duration_int"].clip(upper=10))
    seasons.T.plot(ax=right)
    right.set_xlabel("seasons (10 = 10 or more)")
    right.set_ylabel("shows")
    longest = movies.nlargest(5, "duration_int")
    page.figure("durations", fig, f"Movie minutes per platform and show seasons: {_longest(movies, 'duration_int')}.")
    page.table("longest_movies", longest[["title", "platform", "duration_int", "listed_in"]],
               "The five longest 'movies' with their genres: where a feature film ends and an ambient loop or a "
               "compilation begins.", index=False)
    ratings_top = titles.groupby(platform)["rating"].value_counts().groupby(level=0).head(6).rename("titles")
    page.table("maturity_ratings", ratings_top.reset_index(),
               "The six most common maturity ratings per platform (kept as each platform publishes them).",
               index=False)
    for column, what in (("listed_in", "genres"), ("country", "countries"), ("director", "directors"),
                         ("cast", "actors")):
        top = top_names(titles, column, "platform")
        page.table(f"top_{what}", top, f"Top 5 {what} per platform (titles listing each).", index=False)

    page.section("Relationships")
    sample = movies.sample(min(len(movies), SCATTER_SAMPLE), random_state=seed)
    fig, ax = axes()
    ax.scatter(sample["release_year"], sample["duration_int"], s=3, alpha=.3)
    ax.set_xlabel("release year")
    ax.set_ylabel("minutes")
    correlation = movies["release_year"].corr(movies["duration_int"].astype(float))
    page.figure("duration_vs_year", fig, f"Movie duration against release year (sample of {len(sample):,}): "
                                         f"correlation {correlation:.2f}.")
    scored = scores[scores["rating_count"] > 0]
    scored_sample = scored.sample(min(len(scored), SCATTER_SAMPLE), random_state=seed)
    fig, ax = axes()
    ax.scatter(scored_sample["rating_count"], scored_sample["score"], s=3, alpha=.3)
    ax.set_xscale("log")
    ax.set_xlabel("ratings (log)")
    ax.set_ylabel("mean score")
    few = scored.loc[scored["rating_count"] < 10, "score"].std()
    many = scored.loc[scored["rating_count"] >= 10, "score"].std()
    page.figure("score_vs_count", fig, f"Mean score against number of ratings"
                                       f"{': titles with few ratings spread widest' if few > many else ''} (score "
                                       f"standard deviation {few:.2f} below 10 ratings, {many:.2f} from 10 up).")
    genres = {p: {name for v in g for name in _as_list(v)} for p, g in titles.groupby(platform)["listed_in"]}
    platforms = sorted(genres)
    overlap = pd.DataFrame([[len(genres[a] & genres[b]) / max(1, len(genres[a] | genres[b])) for b in platforms]
                            for a in platforms], index=platforms, columns=platforms)
    pairs = overlap.where(np.triu(np.ones(overlap.shape, dtype=bool), k=1)).stack().dropna()
    fig, ax = axes(5, 4)
    image = ax.imshow(overlap.to_numpy(), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(platforms)), platforms, rotation=45)
    ax.set_yticks(range(len(platforms)), platforms)
    fig.colorbar(image, ax=ax, label="Jaccard")
    page.figure("genre_overlap", fig, f"Overlap of the genre labels between platforms (Jaccard): "
                                      f"{genre_overlap_caption(pairs)}.")
    _ratings_section(page, ratings, "title", ratings_origin)
    page.section("Words in titles")
    _word_cloud(page, titles["title"], "streaming")
    return page.render()


def movies_report(movies: pd.DataFrame, quality: dict, ratings: pd.DataFrame | None, seed: int = 1) -> bytes:
    """movies: the cleaned movies table; ratings: user, item, rating, timestamp (ratings_small) or None."""
    page = Page("streamlens data report: movies catalog",
                f"{len(movies):,} movies (TMDB metadata), from the release the ETL published.")
    profiles = column_overview(movies)
    _alerts_section(page, [*column_alerts(profiles), *duplicate_row_alerts(movies, ["id"], "movie"),
                           *zero_alerts(movies, ["budget", "revenue", "runtime"]),
                           *year_alerts(movies["release_year"], "movie"),
                           *skew_alerts({c: movies[c] for c in ("popularity", "runtime", "vote_average", "vote_count",
                                                                "budget", "revenue", "return", "release_year")}),
                           *(rating_alerts(ratings, ratings.groupby("item").size().reindex(range(len(movies)),
                                                                                           fill_value=0), "movie")
                             if ratings is not None and len(ratings) else [])])
    _overview_section(page, profiles, "movies")
    page.section("Volume and completeness")
    per_year = movies["release_year"].value_counts().sort_index()
    fig, ax = axes()
    ax.bar(per_year.index, per_year.to_numpy(), width=1)
    ax.set_xlabel("release year")
    ax.set_ylabel("movies")
    busiest, most = extremes(per_year, _count)
    page.figure("release_years", fig, f"Movies per release year: {per_year.index.min()} to {per_year.index.max()}, "
                                      f"most in {names([str(y) for y in busiest])} "
                                      f"({most}{' each' if len(busiest) > 1 else ''}).")
    empty = pd.DataFrame({c: movies[c].map(lambda v: v is None or (isinstance(v, float) and np.isnan(v)) or
                                           (hasattr(v, "__len__") and len(v) == 0)).mean()
                          for c in ("overview", "tagline", "runtime", "collection", "genres", "companies",
                                    "countries", "cast", "directors")}, index=["share missing"]).T
    empty.loc["budget = 0"] = (movies["budget"] == 0).mean()
    empty.loc["revenue = 0"] = (movies["revenue"] == 0).mean()
    emptiest, worst = extremes(empty["share missing"], _pct)
    page.table("missing_values", empty, "Share of movies missing each field: " + (
        "none is missing anywhere." if worst == _pct(0) else f"{emptiest[0]} is the emptiest ({worst})."
        if len(emptiest) == 1 else f"{names(emptiest)} are the emptiest ({worst} each)."))
    repeated = movies.duplicated(["title", "release_year"], keep=False)
    page.table("duplicates", pd.DataFrame({"movies": [int(repeated.sum())]}, index=["same title and year"]),
               "Movies sharing a title and release year (different TMDB ids).")
    _quality_tables(page, quality)

    page.section("Distributions and outliers")
    runtime = movies["runtime"].dropna()
    runtime = runtime[runtime > 0]
    fig, ax = axes()
    ax.hist(runtime.clip(upper=240), bins=60)
    ax.set_xlabel("runtime, minutes (240 = 240 or more)")
    longest = movies.nlargest(5, "runtime")
    page.figure("runtimes", fig, f"Runtimes: median {runtime.median():g} min; {_longest(movies, 'runtime')}.")
    page.table("longest_movies", longest[["title", "release_year", "runtime"]], "The five longest entries.",
               index=False)
    for column, what in (("genres", "genres"), ("countries", "countries"), ("companies", "companies"),
                         ("directors", "directors"), ("cast", "actors")):
        page.table(f"top_{what}", top_names(movies, column, n=TOP), f"Top {TOP} {what} (movies listing each).",
                   index=False)

    page.section("Relationships")
    money = movies[(movies["budget"] > 0) & (movies["revenue"] > 0)]
    fig, ax = axes()
    ax.scatter(money["budget"], money["revenue"], s=4, alpha=.4)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("budget")
    ax.set_ylabel("revenue")
    page.figure("budget_vs_revenue", fig, f"Revenue against budget for the {len(money):,} movies with both: "
                                          f"median return {money['revenue'].div(money['budget']).median():.2f}.")
    voted = movies[movies["vote_count"] > 0]
    fig, ax = axes()
    ax.scatter(voted["vote_count"], voted["vote_average"], s=4, alpha=.4)
    ax.set_xscale("log")
    ax.set_xlabel("votes (log)")
    ax.set_ylabel("average vote")
    page.figure("vote_average_vs_count", fig, f"Average vote against number of votes: correlation "
                                              f"{voted['vote_average'].corr(np.log(voted['vote_count'])):.2f} "
                                              "with the log of the count.")
    if ratings is not None and len(ratings):
        _ratings_section(page, ratings, "movie", "ratings_small.csv, MovieLens users, on the catalog's movies")
    page.section("Words in titles")
    _word_cloud(page, movies["title"], "movie")
    return page.render()
