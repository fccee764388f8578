"""The data report of each catalog, rendered from the release the ETL publishes.

Every number a caption quotes is computed here from the cleaned data (or the
quality report), never typed. Charts that do not need every row (scatter
plots) use a fixed-seed sample, so the report stays fast at 11 million ratings.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd
from wordcloud import STOPWORDS, WordCloud

from .report_html import Page, axes

SCATTER_SAMPLE = 20_000
TOP = 10


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


def _word_cloud(page: Page, titles: pd.Series, what: str) -> None:
    counts = title_words(titles)
    if not counts:
        return
    cloud = WordCloud(width=900, height=380, background_color="white", random_state=1,
                      max_words=150).generate_from_frequencies(counts)
    fig, ax = axes(9, 3.8)
    ax.imshow(cloud, interpolation="bilinear")
    ax.axis("off")
    (first, n1), (second, n2) = counts.most_common(2) if len(counts) > 1 else (counts.most_common(1) * 2)
    page.figure("title_word_cloud", fig, f"The most frequent words in {what} titles (stop words removed): "
                                         f"'{first}' ({n1:,} titles' words) leads, then '{second}' ({n2:,}).")


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
    page.figure("score_distribution", fig, f"Distribution of the scores: the mean is {ratings['rating'].mean():.2f} "
                                           f"and the most common score {scores.idxmax():g} "
                                           f"({scores.max() / len(ratings):.0%} of ratings).")
    month, counts = np.unique(ratings["timestamp"].to_numpy(np.int64).astype("datetime64[s]").astype("datetime64[M]"),
                              return_counts=True)
    fig, ax = axes()
    ax.plot(month.astype("datetime64[D]"), counts)
    ax.set_ylabel("ratings per month")
    page.figure("activity_over_time", fig, f"Ratings per month, {month[0]} to {month[-1]}; the busiest month is "
                                           f"{month[counts.argmax()]} with {counts.max():,}.")


def streaming_report(titles: pd.DataFrame, scores: pd.DataFrame, ratings: pd.DataFrame, quality: dict,
                     ratings_origin: str, seed: int = 1) -> bytes:
    """titles: the cleaned catalog; scores: id, score, rating_count; ratings: user, item (catalog position),
    rating, timestamp; quality: the catalogs section of reports/quality.json."""
    page = Page("streamlens data report: streaming catalogs",
                f"{len(titles):,} titles on {titles['platform'].nunique()} platforms, from the release the ETL "
                "published. Every number below is computed from that release.")
    platform = titles["platform"].astype(str)
    page.section("Volume and completeness")
    volume = pd.crosstab(platform, titles["type"].astype(str))
    biggest = volume.sum(axis=1).idxmax()
    fig, ax = axes()
    volume.plot.bar(ax=ax, stacked=True, rot=0)
    ax.set_ylabel("titles")
    page.figure("titles_per_platform_and_type", fig,
                f"Titles per platform and type: {biggest} is the largest catalog ({volume.loc[biggest].sum():,} "
                f"titles); movies are {(titles['type'] == 'movie').mean():.0%} of all titles.")
    missing = titles.drop(columns=["id", "platform", "show_id"]).isna().groupby(platform).mean()
    worst = missing.stack().idxmax()
    fig, ax = axes(9, 2.8)
    image = ax.imshow(missing.to_numpy(), aspect="auto", cmap="Reds", vmin=0, vmax=1)
    ax.set_xticks(range(missing.shape[1]), missing.columns, rotation=45, ha="right")
    ax.set_yticks(range(missing.shape[0]), missing.index)
    fig.colorbar(image, ax=ax, label="share missing")
    page.figure("missing_values", fig, f"Share of missing values per column and platform: the emptiest is "
                                      f"{worst[1]} on {worst[0]} ({missing.loc[worst]:.0%} missing).")
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
    page.figure("release_years", fig, f"Release years per platform: the median ranges from {medians.min():g} "
                                      f"({medians.idxmin()}) to {medians.max():g} ({medians.idxmax()}).")
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
    page.figure("durations", fig, f"Movie minutes per platform and show seasons: the longest 'movie' is "
                                  f"'{longest.iloc[0]['title']}' ({longest.iloc[0]['platform']}, "
                                  f"{int(longest.iloc[0]['duration_int'])} min).")
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
    names = sorted(genres)
    overlap = pd.DataFrame([[len(genres[a] & genres[b]) / max(1, len(genres[a] | genres[b])) for b in names]
                            for a in names], index=names, columns=names)
    pairs = overlap.where(~np.eye(len(names), dtype=bool)).stack()
    fig, ax = axes(5, 4)
    image = ax.imshow(overlap.to_numpy(), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=45)
    ax.set_yticks(range(len(names)), names)
    fig.colorbar(image, ax=ax, label="Jaccard")
    page.figure("genre_overlap", fig, f"Overlap of the genre labels between platforms (Jaccard): the most alike "
                                      f"are {pairs.idxmax()[0]} and {pairs.idxmax()[1]} ({pairs.max():.2f}), the "
                                      f"least {pairs.idxmin()[0]} and {pairs.idxmin()[1]} ({pairs.min():.2f}).")
    _ratings_section(page, ratings, "title", ratings_origin)
    page.section("Words in titles")
    _word_cloud(page, titles["title"], "streaming")
    return page.render()


def movies_report(movies: pd.DataFrame, quality: dict, ratings: pd.DataFrame | None, seed: int = 1) -> bytes:
    """movies: the cleaned movies table; ratings: user, item, rating, timestamp (ratings_small) or None."""
    page = Page("streamlens data report: movies catalog",
                f"{len(movies):,} movies (TMDB metadata), from the release the ETL published.")
    page.section("Volume and completeness")
    per_year = movies["release_year"].value_counts().sort_index()
    fig, ax = axes()
    ax.bar(per_year.index, per_year.to_numpy(), width=1)
    ax.set_xlabel("release year")
    ax.set_ylabel("movies")
    page.figure("release_years", fig, f"Movies per release year: {per_year.index.min()} to {per_year.index.max()}, "
                                      f"most in {per_year.idxmax()} ({per_year.max():,}).")
    empty = pd.DataFrame({c: movies[c].map(lambda v: v is None or (isinstance(v, float) and np.isnan(v)) or
                                           (hasattr(v, "__len__") and len(v) == 0)).mean()
                          for c in ("overview", "tagline", "runtime", "collection", "genres", "companies",
                                    "countries", "cast", "directors")}, index=["share missing"]).T
    empty.loc["budget = 0"] = (movies["budget"] == 0).mean()
    empty.loc["revenue = 0"] = (movies["revenue"] == 0).mean()
    page.table("missing_values", empty, f"Share of movies missing each field: {empty['share missing'].idxmax()} "
                                        f"is the emptiest ({empty['share missing'].max():.0%}).")
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
    page.figure("runtimes", fig, f"Runtimes: median {runtime.median():g} min; the longest is "
                                 f"'{longest.iloc[0]['title']}' ({longest.iloc[0]['runtime']:g} min).")
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
