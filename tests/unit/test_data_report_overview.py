"""The data report's contents, column overview, alerts and tie-aware captions, on small hand-built frames whose
expected figures are computed here independently (collections.Counter, plain Python), not copied from the code."""

from __future__ import annotations

import html
import re
import statistics
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from etl_job import data_report as dr
from etl_job.report_html import STYLE, Page, html_table

# -- contents and alignment ---------------------------------------------------------------------------------------


def test_contents_link_every_section_to_an_anchor_of_the_page():
    page = Page("t", "intro")
    for heading in ("Alerts", "Columns of the titles table", "Volume and completeness", "Words in titles"):
        page.section(heading)
        page.text("x")
    body = page.render().decode()
    nav = re.search(r'<nav id="contents".*?</nav>', body, flags=re.S)
    assert nav and body.index(nav.group()) < body.index("<h2")
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', nav.group())
    ids = re.findall(r'\bid="([^"]+)"', body)
    assert len(ids) == len(set(ids)), "anchors are unique"
    assert [html.unescape(text) for _, text in links] == ["Alerts", "Columns of the titles table",
                                                          "Volume and completeness", "Words in titles"]
    for target, text in links:
        assert re.search(rf'<h2 id="{target}">{re.escape(html.escape(text))}</h2>', body), target


def test_a_section_heading_used_twice_is_refused():
    page = Page("t")
    page.section("Ratings")
    with pytest.raises(ValueError, match="two sections"):
        page.section("ratings")


def test_tables_left_align_text_and_right_align_numbers():
    body = html_table(pd.DataFrame({"name": ["a", "b"], "rows": [1, 2], "share": [0.5, np.nan]}), index=False)
    assert "<th>name</th>" in body and '<th class="num">rows</th>' in body and "<td>a</td>" in body
    assert '<td class="num">1</td>' in body and '<td class="num">0.5</td>' in body and '<td class="num"></td>' in body
    assert "style=" not in body, "no inline right alignment (pandas' to_html adds one)"
    assert re.search(r"th, td \{[^}]*text-align: left", STYLE) and re.search(r"\.num \{[^}]*text-align: right", STYLE)
    indexed = html_table(pd.DataFrame({"titles": [3]}, index=pd.Index(["same year"], name="what")))
    assert "<th>what</th>" in indexed and "<th>same year</th>" in indexed and '<td class="num">3</td>' in indexed


# -- the column overview ------------------------------------------------------------------------------------------

GENRES = ["drama, comedy", "drama", "comedy, drama, drama", "", None, "horror, drama", "comedy"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "platform": pd.Categorical(["a", "a", "b", "b", "b", "c", "c"]),
        "listed_in": GENRES,
        "description": ["x" * 70, "y" * 80, "z" * 100, "w" * 61, None, "v" * 65, "u" * 90],
        "minutes": [90, 90, np.nan, 120, 45, 90, 100],
        "added": ["2020-01-02", None, "2019-05-01", "2021-12-31", "2020-01-02", "2018-03-04", ""],
        "cast": [["ann", "bob"], [], ["bob"], ["bob", "cy"], None, ["ann"], ["dee"]],
    })


def test_missing_counts_nulls_blank_strings_and_empty_lists():
    frame = _frame()
    expected = {c: sum(v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())
                       or (isinstance(v, list) and not v) for v in frame[c].tolist()) for c in frame.columns}
    assert {c: int(dr.missing_mask(frame[c]).sum()) for c in frame.columns} == expected
    assert expected == {"platform": 0, "listed_in": 2, "description": 1, "minutes": 1, "added": 2, "cast": 2}


def test_overview_figures_equal_an_independent_count():
    profiles = {p.column: p for p in dr.column_overview(_frame(), multi_valued=["listed_in"])}
    genres = Counter(name for v in GENRES if v for name in {n.strip() for n in v.split(",") if n.strip()})
    listed = profiles["listed_in"]
    assert listed.kind == "list" and listed.missing == 2 and listed.rows == 7
    assert listed.distinct == len(genres) == 3
    assert listed.top == sorted(genres.items(), key=lambda kv: (-kv[1], kv[0]))[:dr.TOP_VALUES]
    assert listed.top[0] == ("drama", 4), "a name repeated in one row counts once"

    cast = Counter(n for v in _frame()["cast"] if v for n in v)
    assert profiles["cast"].kind == "list" and profiles["cast"].distinct == len(cast)
    assert profiles["cast"].top == sorted(cast.items(), key=lambda kv: (-kv[1], kv[0]))[:dr.TOP_VALUES]

    minutes = [v for v in _frame()["minutes"] if not np.isnan(v)]
    numbers = profiles["minutes"]
    assert numbers.kind == "number" and numbers.missing == 1 and numbers.distinct == len(set(minutes))
    assert numbers.top[0] == (90.0, minutes.count(90))
    assert numbers.summary == f"{min(minutes):g} to {max(minutes):g}, median {statistics.median(minutes):g}"

    assert profiles["platform"].top == [("b", 3), ("a", 2), ("c", 2)], "ties A-Z"
    dates = [v for v in _frame()["added"] if isinstance(v, str) and v]
    assert profiles["added"].kind == "date" and profiles["added"].summary == f"{min(dates)} to {max(dates)}"
    assert profiles["added"].top == [("2020-01-02", 2), *sorted((d, 1) for d in set(dates) - {"2020-01-02"})[:2]]


def test_prose_shows_lengths_not_values_and_unique_columns_say_all_distinct():
    frame = _frame()
    prose = dr.column_profile(frame["description"])
    lengths = sorted(len(v) for v in frame["description"] if isinstance(v, str))
    assert prose.kind == "text" and prose.top == []
    assert prose.summary == f"{lengths[0]} to {lengths[-1]} characters, median {statistics.median(lengths):g}"
    short = dr.column_profile(pd.Series(["ab", "cd", "ef"], name="code"))
    assert short.top == [] and short.distinct == 3
    assert dr._top_text(short) == "all distinct" and dr._top_text(prose).startswith("(prose")


def test_the_overview_table_is_in_the_page_with_each_column():
    page = Page("t")
    profiles = dr.column_overview(_frame(), multi_valued=["listed_in"])
    dr._overview_section(page, profiles, "titles")
    body = page.render().decode()
    rows = re.findall(r"<tr><td>([^<]+)</td>", body)
    assert rows == list(_frame().columns)
    assert "drama (4), comedy (3), horror (1)" in body


# -- alerts ------------------------------------------------------------------------------------------------------


def _checks(alerts: list[dr.Alert]) -> set[tuple[str, str]]:
    return {(a.check, a.subject) for a in alerts}


def test_column_alerts_fire_on_frames_built_for_them_and_not_otherwise():
    n = 100
    above = int(n * dr.MISSING_ALERT) + 1
    frame = pd.DataFrame({
        "sparse": [None] * above + [f"x{i}" for i in range(n - above)],
        "filled": [None] * (above - 2) + [f"x{i}" for i in range(n - above + 2)],
        "constant": ["same"] * n,
        "nearly": ["v"] * int(n * dr.NEAR_CONSTANT) + ["w"] * (n - int(n * dr.NEAR_CONSTANT)),
        "varied": ["v"] * (int(n * dr.NEAR_CONSTANT) - 1) + ["w"] * (n - int(n * dr.NEAR_CONSTANT) + 1),
        "levels": pd.Categorical([f"l{i % (dr.HIGH_CARDINALITY + 1)}" for i in range(n)]),
        "few_levels": pd.Categorical([f"l{i % dr.HIGH_CARDINALITY}" for i in range(n)]),
    })
    fired = _checks(dr.column_alerts(dr.column_overview(frame)))
    assert fired == {("missing", "sparse"), ("constant", "constant"), ("constant", "nearly"),
                     ("cardinality", "levels")}
    text = {a.subject: a.text for a in dr.column_alerts(dr.column_overview(frame))}
    assert f"{above / n:.1%}" in text["sparse"] and f"{above:,} of {n:,}" in text["sparse"]


def test_skew_duplicate_zero_and_year_alerts():
    rng = np.random.default_rng(3)
    skewed, symmetric = pd.Series(rng.lognormal(0, 1.5, 2_000)), pd.Series(rng.normal(0, 1, 2_000))
    assert skewed.skew() > dr.SKEW > abs(symmetric.skew())
    assert _checks(dr.skew_alerts({"long tail": skewed, "bell": symmetric})) == {("skew", "long tail")}

    rows = pd.DataFrame({"id": [1, 2, 3], "title": ["a", "a", "b"], "genres": [["x"], ["x"], ["x"]]})
    repeated = dr.duplicate_row_alerts(rows, ["id"], "movie")
    assert len(repeated) == 1 and repeated[0].text.startswith("1 movie repeats")
    assert dr.duplicate_row_alerts(rows.assign(genres=[["x"], ["y"], ["x"]]), ["id"], "movie") == []

    n, at = 20, int(20 * dr.ZERO_AS_MISSING)
    zeros = pd.DataFrame({"budget": [0] * (at + 1) + [5] * (n - at - 1), "revenue": [0] * at + [5] * (n - at)})
    assert _checks(dr.zero_alerts(zeros, ["budget", "revenue"])) == {("zeros", "budget")}

    assert dr.year_alerts(pd.Series([1950, 2000]), "title") == []
    odd = dr.year_alerts(pd.Series([dr.EARLIEST_YEAR - 1, 2000, 3000]), "title")
    assert len(odd) == 1 and odd[0].text.startswith("2 titles") and "1 before, 1 after" in odd[0].text


def _catalog(platforms: dict[str, int]) -> pd.DataFrame:
    """A cleaned-catalog-shaped frame: `n` titles per platform, distinct titles, every column filled."""
    rows = []
    for name, n in platforms.items():
        for i in range(n):
            rows.append({"id": f"{name}{i}", "platform": name, "show_id": f"s{i}", "title": f"{name} title {i}",
                         "director": "d", "release_year": 2015, "date_added": "2020-01-01"})
    return pd.DataFrame(rows)


def test_catalog_alerts():
    assert dr.catalog_alerts(_catalog({"a": 20, "b": 20})) == []

    gap = _catalog({"a": 20, "b": 20})
    gap.loc[gap["platform"] == "b", "director"] = None
    assert _checks(dr.catalog_alerts(gap)) == {("platform_gap", "director")}
    assert "100% of b's titles but for 0% on the other" in dr.catalog_alerts(gap)[0].text
    both = gap.assign(director=None)
    assert dr.catalog_alerts(both) == [], "empty everywhere is a missing-values alert, not a platform gap"

    shared = _catalog({"a": 20, "b": 20})
    shared.loc[shared.index[-1], "title"] = "a title 0"
    found = dr.catalog_alerts(shared)
    assert _checks(found) == {("cross_platform", "title")}
    assert found[0].text.startswith("1 title (same title and release year) is on more than one platform, 2.6%")

    small = max(1, int(100 / dr.IMBALANCE) - 1)
    imbalance = dr.catalog_alerts(_catalog({"a": 100, "b": small}))
    assert _checks(imbalance) == {("imbalance", "platform")} and f"{100 / small:.1f} times" in imbalance[0].text
    assert dr.catalog_alerts(_catalog({"a": 100, "b": int(100 / dr.IMBALANCE)})) == []

    dates = _catalog({"a": 10, "b": 10})
    dates.loc[0, "date_added"] = "2010-05-01"              # before its 2015 release
    dates.loc[1, "date_added"] = f"{dr.STREAMING_SINCE - 1}-07-14"
    texts = [a.text for a in dr.catalog_alerts(dates)]
    assert _checks(dr.catalog_alerts(dates)) == {("dates", "date_added")}
    assert any(t.startswith("2 titles added before the year of release") for t in texts)
    assert any(t.startswith(f"1 title added before {dr.STREAMING_SINCE}") and "on a" in t for t in texts)


def test_rating_alerts():
    spread = pd.DataFrame({"rating": [1.0, 2.0, 3.0, 4.0, 5.0] * 4})
    even = pd.Series([2] * 10)
    assert dr.rating_alerts(spread, even, "title") == []

    piled = pd.DataFrame({"rating": [4.0] * 11 + [3.0] * 9})
    found = dr.rating_alerts(piled, even, "title")
    assert _checks(found) == {("concentration", "rating")} and found[0].text.startswith("55% of the ratings are 4")

    head = pd.Series([50] + [1] * 9)                       # the top 10 % (one title) holds 50 of 59
    found = dr.rating_alerts(spread, head, "title")
    assert _checks(found) == {("concentration", "rating_count")} and f"{50 / 59:.0%}" in found[0].text

    unrated = pd.Series([3] * 98 + [0] * 2)
    found = dr.rating_alerts(spread, unrated, "movie")
    assert _checks(found) == {("unrated", "rating_count")} and found[0].text.startswith("2 movies (2.0%")
    assert dr.rating_alerts(spread, pd.Series([3] * 99 + [0]), "movie") == [], "1 % is at, not above, the threshold"


def test_no_alerts_is_said_explicitly():
    page = Page("t")
    dr._alerts_section(page, [])
    assert re.search(r'<ul data-list="alerts"><li>No alerts[^<]*</li></ul>', page.render().decode())


# -- captions that tie honestly ----------------------------------------------------------------------------------


def _pairs(values: dict[tuple[str, str], float]) -> pd.Series:
    return pd.Series(values.values(), index=pd.MultiIndex.from_tuples(values.keys()))


def test_genre_overlap_caption_without_ties():
    caption = dr.genre_overlap_caption(_pairs({("amazon", "disney"): .8, ("amazon", "hulu"): .5,
                                               ("disney", "hulu"): .2}))
    assert caption == "the most alike are amazon and disney (0.80), the least disney and hulu (0.20)"


def test_genre_overlap_caption_with_ties():
    every = _pairs({("amazon", "disney"): 1.0, ("amazon", "hulu"): 1.0, ("disney", "hulu"): 1.0})
    assert dr.genre_overlap_caption(every) == "all 3 platform pairs are equally alike (1.00)"
    assert dr.genre_overlap_caption(_pairs({("amazon", "disney"): .5})) == "amazon and disney overlap 0.50"
    tied = _pairs({("amazon", "disney"): .804, ("hulu", "netflix"): .801, ("amazon", "hulu"): .3,
                   ("disney", "netflix"): .1})
    assert dr.genre_overlap_caption(tied) == ("the most alike are amazon and disney, hulu and netflix (tied at 0.80), "
                                              "the least disney and netflix (0.10)"), "ties as printed"


def test_extremes_and_names():
    assert dr.extremes(pd.Series({"a": 3, "b": 1, "c": 3}), str) == (["a", "c"], "3")
    assert dr.extremes(pd.Series({"a": 3, "b": 1, "c": 3}), str, largest=False) == (["b"], "1")
    assert dr.names(["a"]) == "a" and dr.names(["a", "b", "c"]) == "a, b and c"
    assert dr.names(list("abcdef"), limit=4) == "a, b, c, d and 2 more"


def test_word_leaders_name_ties():
    assert dr.word_leaders(Counter({"love": 5, "night": 3, "day": 1})) == "'love' leads (5 times), then 'night' (3)"
    assert dr.word_leaders(Counter({"love": 5, "night": 5, "day": 1})) == "'love' and 'night' lead, 5 times each"
    assert dr.word_leaders(Counter({"love": 5, "night": 3, "day": 3})) == \
        "'love' leads (5 times), then 'day' and 'night' (3 each)"


def _tiny_release(tied: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A cleaned two-platform catalog (titles, scores, ratings): equal platforms and genres when `tied`."""
    rows = []
    sizes = {"amazon": 6, "hulu": 6 if tied else 4}
    for name, n in sizes.items():
        for i in range(n):
            movie = i % 3 != 2
            rows.append({"id": f"{name[0]}s{i}", "platform": name, "show_id": f"s{i}",
                         "type": "movie" if movie else "tv show", "title": f"{name} story {i}",
                         "director": f"dir {i}", "cast": "ann, bob", "country": "india",
                         "date_added": "2020-01-01", "release_year": 2000 + i,
                         "rating": "pg", "maturity": "kids", "duration_int": 90 + (i % 2) * 10 if movie else 1 + i % 2,
                         "duration_type": "min" if movie else "season",
                         "listed_in": "drama" if tied or name == "amazon" else "drama, horror",
                         "description": "a story."})
    titles = pd.DataFrame(rows).astype({"platform": "category", "type": "category", "duration_int": "Int32"})
    scores = pd.DataFrame({"id": titles["id"], "score": 3.0, "rating_count": 2})
    ratings = pd.DataFrame({"user": np.repeat([1, 2], len(titles)), "item": np.tile(np.arange(len(titles)), 2),
                            "rating": 3.0, "timestamp": 1_600_000_000})
    return titles, scores, ratings


def _captions(page: str) -> dict[str, str]:
    return {name: html.unescape(text) for name, text in
            re.findall(r'<figure data-chart="([^"]+)".*?<figcaption>(.*?)</figcaption>', page, flags=re.S)}


def test_streaming_captions_state_ties_and_leaders():
    tied = _captions(dr.streaming_report(*_tiny_release(tied=True), {}, "generated").decode())
    assert "amazon and hulu are the largest catalogs (6 titles each)" in tied["titles_per_platform_and_type"]
    assert "amazon and hulu overlap 1.00" in tied["genre_overlap"]
    assert "the median is 2002.5 on every platform" in tied["release_years"]
    assert "the longest, tied at 100 min, are 'amazon story 1' (amazon), 'amazon story 3' (amazon), " \
           "'hulu story 1' (hulu) and 'hulu story 3' (hulu)" in tied["durations"]
    assert "nothing is missing" in tied["missing_values"]

    leader = _captions(dr.streaming_report(*_tiny_release(tied=False), {}, "generated").decode())
    assert "amazon is the largest catalog (6 titles)" in leader["titles_per_platform_and_type"]
    assert "amazon and hulu overlap 0.50" in leader["genre_overlap"]
    assert "the median ranges from 2001.5 (hulu) to 2002.5 (amazon)" in leader["release_years"]
