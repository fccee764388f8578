"""The data reports: rendered by the ETL into the release, served by the reports
function with their content types (the cache refreshed when a new release goes live), every chart present, the
numbers they quote recomputed here from the release's own parquet files, and each page opened in headless
Chromium."""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from etl_job.pipeline import EtlOptions, run_etl
from etl_job.progress import Progress
from etl_job.sources import DataSource
from streamlens.combined_app import load_handler
from streamlens.release import object_key, read_manifest
from tests.aws import moto_bucket
from tests.helpers import SMALL_TRAINING, v2_event

STREAMING_CHARTS = {"titles_per_platform_and_type", "missing_values", "release_years", "durations",
                    "duration_vs_year", "score_vs_count", "genre_overlap", "ratings_per_user_and_title",
                    "score_distribution", "activity_over_time", "title_word_cloud"}
MOVIES_CHARTS = {"release_years", "runtimes", "budget_vs_revenue", "vote_average_vs_count", "title_word_cloud"}
RATINGS_CHARTS = {"ratings_per_user_and_title", "score_distribution", "activity_over_time"}
RECOMMENDER_CHARTS = {"candidates", "learning_curve", "predicted_vs_actual", "top_n"}
PAGES = ("data_streaming.html", "data_movies.html", "model.html")


def _release(folder: Path, bucket: str):
    with moto_bucket(bucket) as (settings, store):
        started = time.perf_counter()
        summary = run_etl(DataSource(str(folder)), store, settings,
                          EtlOptions(sample_ratings=20_000, sample_users=400, train_config=SMALL_TRAINING),
                          Progress(io.StringIO()))
        wall = time.perf_counter() - started
        manifest = read_manifest(store, settings)
        read = lambda name: store.get(object_key(manifest, name))                 # noqa: E731
        handler = load_handler("reports").handler
        served = {name: handler(v2_event(f"/reports/{name}", None), None)
                  for name in (*PAGES, "quality.json", "rejects_catalogs.csv", "rejects_ratings.csv")}
        listing = json.loads(handler(v2_event("/reports", None), None)["body"])
        missing = handler(v2_event("/reports/nope.html", None), None)
        direct = {"page": handler({"name": "data_movies.html"}, None), "missing": handler({"name": "nope"}, None)}
        yield {"summary": summary, "wall": wall, "read": read, "served": served, "listing": listing, "missing": missing,
               "direct": direct,
               "titles": pd.read_parquet(io.BytesIO(read("data/titles.parquet"))),
               "ratings": pd.read_parquet(io.BytesIO(read("data/ratings.parquet"))),
               "movies": pd.read_parquet(io.BytesIO(read("data/movies.parquet"))),
               "quality": json.loads(read("reports/quality.json"))}


@pytest.fixture(scope="module")
def generated(full_data_dir):
    yield from _release(full_data_dir, "reports-generated")


@pytest.fixture(scope="module")
def real(real_data_dir):
    yield from _release(real_data_dir, "reports-real")


def charts(page: str) -> dict[str, str]:
    """chart name -> its caption."""
    return {name: html.unescape(caption) for name, caption in
            re.findall(r'<figure data-chart="([^"]+)".*?<figcaption>(.*?)</figcaption>', page, flags=re.S)}


def _check_streaming(release):
    page = release["read"]("reports/data_streaming.html").decode()
    found = charts(page)
    assert set(found) == STREAMING_CHARTS
    titles, ratings = release["titles"], release["ratings"]
    sizes = titles["platform"].astype(str).value_counts()
    leaders = sorted(sizes[sizes == sizes.max()].index)
    volume = found["titles_per_platform_and_type"]
    if len(leaders) == 1:
        assert f"{leaders[0]} is the largest catalog ({sizes.max():,} titles)" in volume
    else:
        assert f"{', '.join(leaders[:-1])} and {leaders[-1]} are the largest catalogs ({sizes.max():,} titles each)" \
            in volume, "a tie is stated"
    assert f"movies are {(titles['type'] == 'movie').mean():.0%} of all titles" in found["titles_per_platform_and_type"]
    movies = titles[titles["duration_type"] == "min"]
    longest = movies.sort_values("duration_int", ascending=False, kind="stable").iloc[0]
    assert f"{int(longest['duration_int'])} min" in found["durations"]
    per_user = ratings.groupby("userId").size()
    assert f"the most active {per_user.max():,}" in found["ratings_per_user_and_title"]
    assert f"the mean is {ratings['rating'].mean():.2f}" in found["score_distribution"]
    assert f"{len(ratings):,} ratings from {ratings['userId'].nunique():,} users" in page
    rejected = sum(n for kinds in release["quality"]["catalogs"]["rejects"].values() for n in kinds.values())
    assert f"rejected: {rejected:,} rows" in page
    key = titles["title"].str.lower().str.strip() + "|" + titles["release_year"].astype(str)
    across = int((titles.assign(key=key).groupby("key")["platform"].nunique() > 1).sum())
    assert re.search(rf'more than one platform</th>\s*<td class="num">{across}</td>', page)
    _check_contents_and_overview(page, titles)
    genres = {p: {g.strip() for v in group.dropna() for g in v.split(",") if g.strip()}
              for p, group in titles.groupby(titles["platform"].astype(str))["listed_in"]}
    jaccard = {round(len(genres[a] & genres[b]) / len(genres[a] | genres[b]), 2)
               for a in genres for b in genres if a < b}
    if len(jaccard) == 1:
        assert f"all {len(genres) * (len(genres) - 1) // 2} platform pairs are equally alike" in found["genre_overlap"]
    else:
        assert f"({max(jaccard):.2f})" in found["genre_overlap"] or f"(tied at {max(jaccard):.2f})" in \
            found["genre_overlap"]


def _check_contents_and_overview(page: str, table: pd.DataFrame) -> None:
    """Every contents link reaches a heading of the page; the overview lists each column of the published table
    with its count of nulls (blank strings and empty lists count too, so at least that many)."""
    nav = re.search(r'<nav id="contents".*?</nav>', page, flags=re.S)
    assert nav, "the page opens with its contents"
    links = re.findall(r'href="#([^"]+)"', nav.group())
    assert links[:2] == ["alerts", links[1]] and links[1].startswith("columns-of-the-")
    ids = re.findall(r'<h2 id="([^"]+)"', page)
    assert links == ids and len(set(ids)) == len(ids)
    overview = re.search(r'<div data-table="overview_[^"]+">.*?</div>', page, flags=re.S)
    assert overview
    rows = {cells[0]: cells for cells in (re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
                                          for row in re.findall(r"<tr>(.*?)</tr>", overview.group())[1:])}
    assert list(rows) == list(table.columns)
    for column in table.columns:
        assert int(rows[column][2]) >= int(table[column].isna().sum()), column
    assert re.search(r'<ul data-list="alerts"><li>', page)


def _check_movies(release, with_ratings: bool):
    page = release["read"]("reports/data_movies.html").decode()
    found = charts(page)
    _check_contents_and_overview(page, release["movies"])
    assert set(found) == MOVIES_CHARTS | (RATINGS_CHARTS if with_ratings else set())
    movies = release["movies"]
    years = movies["release_year"].value_counts()
    assert f"most in {years.sort_index().idxmax()} ({years.max():,})" in found["release_years"]
    money = movies[(movies["budget"] > 0) & (movies["revenue"] > 0)]
    assert f"for the {len(money):,} movies with both" in found["budget_vs_revenue"]
    runtime = movies["runtime"][movies["runtime"] > 0]
    assert f"median {runtime.median():g} min" in found["runtimes"]


def test_reports_of_a_generated_release(generated):
    _check_streaming(generated)
    _check_movies(generated, with_ratings=False)


def test_reports_of_the_real_catalogs(real, shared_data):
    _check_streaming(real)
    _check_movies(real, with_ratings=True)
    titles = real["titles"]
    hulu = titles[titles["platform"].astype(str) == "hulu"]
    alerts = [html.unescape(a) for a in re.findall(r"<li>([^<]*)</li>",
                                                   real["read"]("reports/data_streaming.html").decode())]
    assert f"director is missing for {hulu['director'].isna().mean():.0%} of hulu's titles" in " ".join(alerts), \
        "the real hulu export has no directors"
    sizes = titles["platform"].astype(str).value_counts()
    assert any(f"is {sizes.max() / sizes.min():.1f} times the smallest" in a for a in alerts)
    ratings = pd.read_csv(shared_data / "movies" / "ratings_small.csv")
    links = pd.read_csv(shared_data / "movies" / "links.csv").dropna(subset=["tmdbId"])
    used = ratings.merge(links, on="movieId")
    used = used[used["tmdbId"].isin(real["movies"]["id"].astype(float))]
    page = real["read"]("reports/data_movies.html").decode()
    assert f"{len(used):,} ratings from {used['userId'].nunique():,} users" in page


def _check_model_report(release, datasets: tuple[str, ...], similar: tuple[str, ...]):
    page = release["read"]("reports/model.html").decode()
    found = charts(page)
    assert set(found) == ({f"{d}_{c}" for d in datasets for c in RECOMMENDER_CHARTS}
                          | {f"similar_{c}_evaluation_chart" for c in similar})
    cards = {"streaming": json.loads(release["read"]("models/recommender/model_card.json"))}
    if "ratings_small" in datasets:
        cards["ratings_small"] = json.loads(release["read"]("models/ratings_small/model_card.json"))
    for name, card in cards.items():
        chosen = card["candidates"][card["chosen"]["name"]]
        assert f"scores {chosen['rmse']:.4f} (MAE {chosen['mae']:.4f})" in found[f"{name}_candidates"]
        top = card["ranking"]["evaluation"]["all"]
        assert (f"popularity {top['popularity']['precision']:.3f}" in found[f"{name}_top_n"]
                and f"{top['ranking_model']['precision']:.3f}" in found[f"{name}_top_n"])
        for result in card["grid_search"]["results"]:
            assert f'<td class="num">{result["rmse"]:.4g}</td>' in page
    similar_card = json.loads(release["read"]("models/similar/model_card.json"))
    for catalog in similar:
        share = similar_card[catalog]["evaluation"]["content"]["genres"]["share_any"]
        assert f"shares a genre {share:.3f}" in found[f"similar_{catalog}_evaluation_chart"]
    return cards


def test_model_report_of_a_generated_release(generated):
    _check_model_report(generated, ("streaming",), ("streaming", "movies"))
    timings = generated["summary"]["timings"]
    reports = {stage: seconds for stage, seconds in timings.items() if stage.endswith("report")}
    assert set(reports) == {"streaming data report", "movies data report", "model report"}, "each page is timed"
    assert generated["summary"]["report_seconds"] == pytest.approx(sum(reports.values()), abs=0.011)
    assert min(reports.values()) > 0 and min(timings.values()) >= 0
    rounding = 0.005 * len(timings)           # each stage's seconds are rounded to two decimals
    assert sum(timings.values()) <= generated["summary"]["elapsed_seconds"] + rounding <= generated["wall"] + 0.01 \
        + rounding, "the stages are parts of the run, timed once each"
    assert generated["summary"]["report_seconds"] < sum(timings.values()) - timings["catalogs cleaned"]


def test_model_report_of_the_real_data_includes_ratings_small(real, shared_data):
    cards = _check_model_report(real, ("streaming", "ratings_small"), ("streaming", "movies"))
    ratings = pd.read_csv(shared_data / "movies" / "ratings_small.csv")
    reference = cards["ratings_small"]
    assert (reference["rows"], reference["users"], reference["items"]) == \
        (len(ratings), ratings["userId"].nunique(), ratings["movieId"].nunique())
    assert reference["candidates"][reference["chosen"]["name"]]["rmse"] < 0.9, "published SVD results: ~0.87-0.90"


TYPES = {".html": "text/html", ".json": "application/json", ".csv": "text/csv"}


def test_reports_are_listed_and_served_with_their_content_types(generated):
    listed = {r["name"]: r["content_type"] for r in generated["listing"]["reports"]}
    assert {*PAGES, "quality.json", "rejects_catalogs.csv", "rejects_ratings.csv"} <= set(listed)
    for name, response in generated["served"].items():
        expected = TYPES[Path(name).suffix]
        assert response["statusCode"] == 200 and response["headers"]["content-type"].startswith(expected), name
        assert listed[name].startswith(expected), name
        assert response["body"].encode() == generated["read"](f"reports/{name}")
    assert json.loads(generated["served"]["quality.json"]["body"]) == generated["quality"]
    body = json.loads(generated["missing"]["body"])
    assert generated["missing"]["statusCode"] == 404 and "data_movies.html" in body["error"]["valid_values"]


def test_the_reports_served_follow_a_new_release(s3_env, sample_data_dir, full_data_dir, monkeypatch):
    """The reports kept for a release are dropped when another goes live: once the manifest is checked again
    (a TTL of 0: on every request) the function serves the new release's reports, not its kept copies."""
    settings, store = s3_env
    monkeypatch.setenv("STREAMLENS_MANIFEST_TTL_SECONDS", "0")
    handler = load_handler("reports").handler

    def serve(name: str) -> dict:
        return handler(v2_event(f"/reports/{name}", None), None)

    def stored(name: str) -> bytes:
        return store.get(object_key(read_manifest(store, settings), f"reports/{name}"))

    first = run_etl(DataSource(str(sample_data_dir)), store, settings, EtlOptions(train=False), Progress(io.StringIO()))
    before = {name: serve(name) for name in ("quality.json", "data_movies.html")}
    assert before["quality.json"]["body"].encode() == stored("quality.json") and "movies" not in json.loads(
        before["quality.json"]["body"])
    assert before["data_movies.html"]["statusCode"] == 404, "the first release has no movies catalog"

    second = run_etl(DataSource(str(full_data_dir)), store, settings, EtlOptions(train=False), Progress(io.StringIO()))
    assert second["release_id"] != first["release_id"]
    listing = json.loads(handler(v2_event("/reports", None), None)["body"])
    assert listing["release_id"] == second["release_id"]
    after = {name: serve(name) for name in before}
    assert "movies" in json.loads(after["quality.json"]["body"])
    for name, response in after.items():
        assert response["statusCode"] == 200 and response["body"].encode() == stored(name), name


def test_direct_invocation_returns_the_page(generated):
    answer = generated["direct"]["page"]
    assert answer["statusCode"] == 200 and answer["contentType"].startswith("text/html")
    assert answer["body"].encode() == generated["read"]("reports/data_movies.html")
    assert generated["direct"]["missing"]["error"]["status"] == 404


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_reports_render_in_headless_chromium_without_console_errors(generated, tmp_path):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            model_charts = {f"streaming_{c}" for c in RECOMMENDER_CHARTS} | {"similar_streaming_evaluation_chart",
                                                                              "similar_movies_evaluation_chart"}
            for name, expected in (("data_streaming.html", STREAMING_CHARTS), ("data_movies.html", MOVIES_CHARTS),
                                   ("model.html", model_charts)):
                path = tmp_path / name
                path.write_bytes(generated["read"](f"reports/{name}"))
                page = browser.new_page()
                problems: list[str] = []
                page.on("console", lambda m, seen=problems: seen.append(m.text)
                        if m.type in ("error", "warning") else None)
                page.on("pageerror", lambda e, seen=problems: seen.append(str(e)))
                page.on("request", lambda r, seen=problems: None if r.url.startswith(("file:", "data:"))
                        else seen.append(f"fetched {r.url}"))
                page.goto(path.as_uri())
                widths = page.evaluate("Array.from(document.querySelectorAll('figure img')).map(i => i.naturalWidth)")
                assert len(widths) == len(expected) and min(widths) > 100, name
                assert problems == [], name
                page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
                page.close()
        finally:
            browser.close()
