"""The web interface end to end: the local run (the `site` fixture: embedded S3, ETL on generated data,
API and web/ on one port) driven by Playwright in Debian's headless Chromium. Expected answers come from the API
itself, asked directly over HTTP; the page's words are derived from them here. Screenshots go to
.local/test-output/screenshots/."""

from __future__ import annotations

import ast
import re
import shutil
from urllib.parse import quote

import httpx
import pandas as pd
import pytest

from tests.helpers import REPO

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
SCREENSHOTS = REPO / ".local" / "test-output" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTHS = (320, 390, 768)


@pytest.fixture(scope="module")
def browser():
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_tab(browser, site, **context_options):
    """A tab on the page whose console errors and warnings, page errors and requests to another host are
    collected in `tab.problems`, except Chromium's "Failed to load resource" for an API call the test makes
    fail on purpose (listed in `tab.expected_failures`): the browser logs every 4xx it receives."""
    base, _ = site
    context = browser.new_context(**({"viewport": {"width": 1200, "height": 900}} | context_options))
    tab = context.new_page()
    tab.expected_failures = []
    tab.problems = []

    def console(message) -> None:
        url = message.location.get("url", "")
        if message.type in ("error", "warning") and not any(f in url for f in tab.expected_failures):
            tab.problems.append(f"console {message.type}: {message.text} ({url})")

    tab.on("console", console)
    tab.on("pageerror", lambda e: tab.problems.append(f"page error: {e}"))
    tab.on("request", lambda r: None if r.url.startswith((base, "data:")) else tab.problems.append(f"fetched {r.url}"))
    tab.goto(base)
    tab.wait_for_function("document.querySelector('select[data-platforms] option') !== null")
    return context, tab


@pytest.fixture
def page(browser, site):
    """A fresh page at 1200 px; any console error, page error or request to another host fails the test."""
    context, tab = open_tab(browser, site)
    yield tab
    context.close()
    assert tab.problems == []


def api(site, path: str, **params) -> tuple[int, dict]:
    response = httpx.get(site[0] + path.lstrip("/"), params=params, timeout=30)
    return response.status_code, response.json()


def post(site, path: str, body: dict) -> tuple[int, dict]:
    response = httpx.post(site[0] + path.lstrip("/"), json=body, timeout=30)
    return response.status_code, response.json()


# --- how the page words the API's values (the rules of web/app.js) ---------------------------------
def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def words_cap(text: str) -> str:
    return " ".join(cap(w) for w in text.split(" "))


def type_name(kind: str) -> str:
    return "TV show" if kind == "tv show" else cap(kind)


def num(value) -> str:
    """JavaScript's toLocaleString("en"): thousands separators, at most 3 decimals."""
    return f"{int(value):,}" if float(value).is_integer() else f"{round(value, 3):,}"


def duration(amount: int, unit: str) -> str:
    if unit == "season":
        return f"{amount} season" if amount == 1 else f"{amount:,} seasons"
    return f"{amount:,} min"


def shown(item: dict) -> str:
    """A title as a page shows it: the catalog's own case (`display_title`), not the brief's lowercase."""
    return item.get("display_title") or item["title"]


def where(item: dict) -> str:
    """The platforms a work is on, as a card lists them."""
    return ", ".join(cap(p["platform"]) for p in item["available_on"])


def describe(item: dict) -> str:
    """A suggestion's text."""
    return f"{shown(item)} ({type_name(item['type'])}, {item['release_year']}, {where(item)})"


def field_words(key: str, value, answer: dict) -> str:
    """What a field's <dd> says."""
    if value is None:
        return "any year" if key == "year" else "unknown"
    if key == "duration_int":
        return duration(value, answer["duration_type"])
    if key == "platform":
        return cap(value)
    if key == "actor":
        return words_cap(value)
    if key == "ties":
        return ", ".join(words_cap(v) for v in value) or "nobody"
    if key == "scored":
        return f"{value:g} out of 5"
    if key in ("year", "release_year"):
        return str(value)
    if key == "revenue":
        return f"${round(value):,}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return num(value)
    return str(value)


def number_in(text: str, after: str) -> float:
    return float(re.search(re.escape(after) + r"\s*([0-9.]+)", text).group(1))


# --- helpers ----------------------------------------------------------------------------------------
def shot(tab, name: str, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def fill(form, params: dict) -> None:
    """Each field of the form given its value, as a person would: chosen in a select, typed otherwise."""
    for name, value in params.items():
        field = form.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(str(value))
        else:
            field.fill(str(value))


def ask(tab, path: str, params: dict) -> str:
    form = tab.locator(f'form[data-query="{path}"]')
    fill(form, params)
    form.locator("button").first.click()
    output = form.locator("output")
    output.locator(":scope > :not(.pending)").first.wait_for()
    return output.inner_text()


def no_raw_keys(tab, root: str, answer: dict) -> None:
    """Labels are words: no label is a JSON key, none has an underscore, and no JSON is shown."""
    labels = tab.locator(f"{root} dt").all_inner_texts()
    assert labels and not set(labels) & set(answer), labels
    assert not [k for k in labels if "_" in k]
    text = tab.locator(root).inner_text()
    assert not re.search(r"[{}\[\]]", text), text


def search(tab, q: str) -> None:
    box = tab.locator("#search-q")
    box.fill(q)
    box.press("Enter")


def cards(tab, root: str) -> list[str]:
    return tab.locator(f"{root} .card :is(h4, h5)").all_inner_texts()


def known_user(site) -> int:
    ratings = pd.read_csv(sorted((site[1] / "streaming" / "ratings").glob("*.csv"))[0])
    return int(ratings["userId"].iloc[0])


def a_typo_with_suggestions(site) -> tuple[str, list[str]]:
    """A misspelt title that /titles finds nothing for and /similar offers suggestions for."""
    _, found = api(site, "/titles", q="e", limit=20)
    for item in found["items"]:
        title = item["title"]
        typo = title[1] + title[0] + title[2:]
        if api(site, "/titles", q=typo)[1]["items"]:
            continue
        status, body = api(site, "/similar", title=typo, n=1)
        if status == 404 and body["error"].get("suggestions"):
            return typo, body["error"]["suggestions"]
    raise AssertionError("no misspelt title with suggestions in the generated catalog")


# --- 1. search on the home page -----------------------------------------------------------------
def test_typing_suggests_titles_and_enter_lists_the_results_with_filters(page, site):
    _, first = api(site, "/titles", q="e", limit=1)
    q = first["items"][0]["title"][:4]
    _, suggested = api(site, "/titles", q=q, limit=10)
    box = page.locator("#search-q")
    box.press_sequentially(q, delay=40)
    page.wait_for_function("wanted => Array.from(document.querySelectorAll('#search-options option'))"
                           ".some(o => o.value === wanted)", arg=describe(suggested["items"][0]))
    box.press("Enter")
    page.wait_for_url("**#/search?q=*")
    _, listed = api(site, "/titles", q=q, limit=20)
    page.locator("#results .card").first.wait_for()
    assert cards(page, "#results") == [shown(i) for i in listed["items"]]
    first_card = page.locator("#results .card").first.inner_text()
    item = listed["items"][0]
    assert f"{type_name(item['type'])} · {item['release_year']} · on {where(item)}" in first_card
    shot(page, "search-results")

    def listed_with(**filters) -> list[str]:
        """The API's answer with these filters, once the page lists the same (it asks the API again)."""
        _, answer = api(site, "/titles", q=q, limit=20, **filters)
        page.wait_for_function("ids => Array.from(document.querySelectorAll('#results .card h4')).map("
                               "h => h.textContent).join('|') === ids", arg="|".join(shown(i) for i in answer["items"]))
        return [shown(i) for i in answer["items"]]

    kind = item["type"]
    page.locator('#filter-form [name="type"]').select_option(kind)
    expected = listed_with(type=kind)
    assert cards(page, "#results") == expected
    years = sorted(i["release_year"] for i in listed["items"])
    low, high = years[len(years) // 4], years[3 * len(years) // 4]
    page.locator('#filter-form [name="year_min"]').fill(str(low))
    page.locator('#filter-form [name="year_max"]').fill(str(high))
    page.locator('#filter-form button').click()
    expected = listed_with(type=kind, year_min=low, year_max=high)
    assert cards(page, "#results") == expected

    platform = item["platform"][0]
    page.locator('#filter-form [name="platform"]').select_option(platform)
    expected = listed_with(type=kind, year_min=low, year_max=high, platform=platform)
    assert cards(page, "#results") == expected


def test_a_long_results_list_pages_with_show_more(page, site):
    _, everything = api(site, "/titles", q="e", limit=20)
    assert everything["total"] > 20, "the sample has more than a page of titles with an e"
    search(page, "e")
    page.locator("#results .card").first.wait_for()
    assert page.locator("#results-count").inner_text() == f"20 of {everything['total']:,} titles."
    page.locator("#results-more button").click()
    _, second = api(site, "/titles", q="e", limit=20, offset=20)
    page.wait_for_function("n => document.querySelectorAll('#results .card').length === n",
                           arg=20 + len(second["items"]))
    assert cards(page, "#results") == [shown(i) for i in everything["items"] + second["items"]]


def test_a_query_that_matches_nothing_offers_did_you_mean_links_or_says_so(page, site):
    page.expected_failures.append("similar?title=")
    typo, suggestions = a_typo_with_suggestions(site)
    search(page, typo)
    links = page.locator("#search-results .suggestions a")
    links.first.wait_for()
    assert f"No title matches “{typo}”." in page.locator("#search-results").inner_text()
    assert links.all_inner_texts() == suggestions
    shot(page, "did-you-mean")
    links.first.click()
    page.locator("#results .card").first.wait_for()
    _, found = api(site, "/titles", q=suggestions[0], limit=20)
    assert cards(page, "#results") == [shown(i) for i in found["items"]]

    nonsense = "zqxj" * 3
    assert api(site, "/titles", q=nonsense)[1]["items"] == []
    status, body = api(site, "/similar", title=nonsense, n=1)
    assert status == 404 and body["error"]["suggestions"] == []
    search(page, nonsense)
    page.wait_for_function("q => document.querySelector('#search-results').textContent.includes(q)"
                           " && !document.querySelector('#search-results .suggestions')", arg=nonsense)
    assert f"No title matches “{nonsense}”." in page.locator("#search-results").inner_text()


# --- 2. one page per title ---------------------------------------------------------------------
def test_picking_a_suggestion_opens_the_title_page_in_words(page, site):
    _, found = api(site, "/titles", q="e", limit=20)
    item = next((i for i in found["items"] if i["type"] == "tv show"), found["items"][0])
    _, details = api(site, f"/titles/{item['id']}")
    box = page.locator("#search-q")
    box.press_sequentially(item["title"], delay=20)
    page.wait_for_function("wanted => Array.from(document.querySelectorAll('#search-options option'))"
                           ".some(o => o.value === wanted)", arg=describe(item))
    box.fill(describe(item))
    box.press("Enter")
    page.wait_for_url(f"**#/title/{item['id']}")
    page.locator("#title-page h2").wait_for()
    text = page.locator("#title-page").inner_text()
    assert page.locator("#title-page h2").inner_text() == details["display_title"]
    names = [cap(p["platform"]) for p in details["available_on"]]
    assert "available on " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]) in text
    if details["duration_int"] is not None:
        assert duration(details["duration_int"], details["duration_type"]) in text
    if details["rating"]:
        assert f"rated {details['rating'].upper()}" in text
    if details["date_added"]:
        assert f"added {details['date_added']}" in text
    for names in ("cast", "director", "country", "listed_in"):
        if details[names]:
            assert details[f"display_{names}"] in text
    score = page.locator('#title-page [data-field="score"]').inner_text()
    if details["score"] is None:
        assert score == "Not rated yet."
    else:
        assert abs(number_in(score, "Scored") - details["score"]) <= 0.005
        assert f"by {details['rating_count']:,} rating" in score
    assert "duration_int" not in text and "{" not in text


def test_a_title_page_shows_five_similar_cards_that_open_their_pages_and_back_works(page, site):
    _, similar = api(site, "/similar", title_id="ns1", n=5)
    _, details = api(site, "/titles/ns1")
    page.goto(site[0] + "#/title/ns1")
    links = page.locator("#title-page .similar .card h4 a")
    links.first.wait_for()
    assert links.all_inner_texts() == [shown(s) for s in similar["similar"]]
    assert page.locator("#title-page h2").inner_text() == details["display_title"]
    shot(page, "title-page")
    links.first.click()
    target = similar["similar"][0]
    page.wait_for_url(f"**#/title/{target['id']}")
    page.wait_for_function("title => document.querySelector('#title-page h2')?.textContent === title",
                           arg=shown(target))
    page.go_back()
    page.wait_for_function("title => document.querySelector('#title-page h2')?.textContent === title",
                           arg=details["display_title"])


def test_a_title_page_says_in_a_sentence_whether_to_recommend_it_to_a_user(page, site):
    user = known_user(site)
    _, expected = api(site, "/recommend", user_id=user, title_id="ns1")
    page.goto(site[0] + "#/title/ns1")
    form = page.locator("#predict-form")
    form.wait_for()
    form.locator("input").fill(str(user))
    form.locator("input").press("Enter")
    message = form.locator("output .message")
    message.wait_for()
    said = message.inner_text()
    assert said.startswith(f"User {user} would rate it")
    assert abs(number_in(said, "would rate it") - expected["predicted_rating"]) <= 0.005
    assert ("do not recommend" in said) == (not expected["recommend"])
    assert ("rated it already" in said) == expected["already_rated"]

    unknown = 987654321
    _, cold = api(site, "/recommend", user_id=unknown, title_id="ns1")
    assert cold["cold_start"]
    form.locator("input").fill(str(unknown))
    form.locator("input").press("Enter")
    page.wait_for_function("() => document.querySelector('#predict-form output .message')?.textContent"
                           ".includes('no ratings yet')")
    said = message.inner_text()
    assert abs(number_in(said, "expected rating is") - cold["predicted_rating"]) <= 0.005
    assert ("do not recommend" in said) == (not cold["recommend"])


# --- 3. for you --------------------------------------------------------------------------------
def test_for_you_shows_a_users_filtered_top_n_with_reasons_and_cold_start_once(page, site):
    user = known_user(site)
    _, catalog = api(site, "/catalog")
    years = catalog["release_years"]
    params = {"n": 5, "platform": "n", "type": "movie", "year_min": years["min"], "year_max": years["max"]}
    _, expected = api(site, f"/users/{user}/recommendations", **params)
    page.click("nav >> text=For you")
    form = page.locator("#user-form")
    form.locator('[name="user_id"]').fill(str(user))
    fill(form, params)
    form.locator("button").click()
    form.locator("output .card").first.wait_for()
    assert cards(page, "#user-form output") == [shown(i) for i in expected["items"]]
    reasons = form.locator("output .card .reason").all_inner_texts()
    assert reasons == [f"Because you rated {shown(i['because_you_rated'])}." for i in expected["items"]]
    shot(page, "for-you")

    unknown = 987654321
    _, cold = api(site, f"/users/{unknown}/recommendations", n=5)
    assert cold["cold_start"]
    form.locator('[name="user_id"]').fill(str(unknown))
    for name in ("platform", "type"):
        form.locator(f'[name="{name}"]').select_option("")
    for name in ("year_min", "year_max"):
        form.locator(f'[name="{name}"]').fill("")
    form.locator("button").click()
    page.wait_for_function("() => document.querySelector('#user-form output .message')?.textContent"
                           ".includes('no ratings yet')")
    assert page.locator("body").inner_text().count(cap(cold["message"])) == 1
    assert page.locator("body").inner_text().count("no ratings yet") == 1
    assert cards(page, "#user-form output") == [shown(i) for i in cold["items"]]
    reasons = page.locator("#user-form output .card .reason").all_inner_texts()
    for reason, item in zip(reasons, cold["items"], strict=True):
        assert abs(number_in(reason, "Scored") - item["score"]) <= 0.005
        assert reason.endswith(f"out of 5 by {item['rating_count']:,} ratings.")


def rate(tab, item: dict, stars: float) -> None:
    form = tab.locator("#visitor-form")
    box = form.locator('[name="q"]')
    box.press_sequentially(item["title"], delay=20)
    tab.wait_for_function("wanted => Array.from(document.querySelectorAll('#visitor-options option'))"
                          ".some(o => o.value === wanted)", arg=describe(item))
    box.fill(describe(item))
    form.locator('[name="rating"]').select_option(str(stars).removesuffix(".0"))
    box.press("Enter")
    tab.locator("#visitor-ratings li a", has_text=shown(item)).wait_for()


def test_a_visitor_rates_titles_and_gets_recommendations_at_once(page, site):
    _, found = api(site, "/titles", q="e", limit=20)
    chosen = [found["items"][0], found["items"][-1]]
    ratings = [{"title_id": chosen[0]["id"], "rating": 5}, {"title_id": chosen[1]["id"], "rating": 1.5}]
    status, expected = post(site, "/recommendations", {"ratings": ratings, "n": 4})
    assert status == 200
    page.click("nav >> text=For you")
    rate(page, chosen[0], 5)
    rate(page, chosen[1], 1.5)
    listed = page.locator("#visitor-ratings li").all_inner_texts()
    assert [t.split(": ")[1].split(" Remove")[0] for t in listed] == ["5 stars", "1.5 stars"]
    page.locator('#visitor-form [name="n"]').fill("4")
    page.click("#visitor-recommend")
    page.locator("#visitor-form output .card").first.wait_for()
    assert cards(page, "#visitor-form output") == [shown(i) for i in expected["items"]]
    reasons = page.locator("#visitor-form output .card .reason").all_inner_texts()
    assert reasons == [f"Because you rated {shown(i['because_you_rated'])}." for i in expected["items"]]
    shot(page, "visitor-ratings")


# --- 4. answers in words, for every form -------------------------------------------------------
STREAMING_QUERIES = [
    ("/max-duration", {"platform": "n", "duration_type": "min"}),
    ("/max-duration", {"platform": "a", "year": 2020, "duration_type": "season"}),
    ("/score-count", {"platform": "n", "scored": 3, "year": 2020}),
    ("/count-platform", {"platform": "d"}),
    ("/actor", {"platform": "n"}),
]


@pytest.mark.parametrize("path, params", STREAMING_QUERIES)
def test_each_streaming_form_answers_in_words(page, site, path, params):
    status, expected = api(site, path, **params)
    page.click("nav >> text=Streaming catalogs")
    if status != 200:
        page.expected_failures.append(path.lstrip("/"))
    shown = ask(page, path, params)
    root = f'form[data-query="{path}"] output'
    if status == 200:
        for key, value in expected.items():
            if key in ("id", "duration_type"):
                continue
            field = page.locator(f'{root} dd[data-field="{key}"]')
            assert field.inner_text() == field_words(key, value, expected), key
        no_raw_keys(page, root, expected)
        assert page.locator(f"{root} p.message").first.inner_text().endswith(".")
    else:
        assert expected["error"]["message"] in shown
    if path == "/max-duration" and "year" not in params:
        shot(page, "streaming-queries")


@pytest.fixture(scope="module")
def movie_names(site):
    """A name of each kind, read from the generated raw files (ast, not the ETL's parser)."""
    folder = site[1] / "movies"
    movies = pd.read_csv(folder / "movies_metadata.csv", dtype=str, keep_default_na=False)
    good = movies[(movies["release_date"] != "") & movies["id"].str.fullmatch(r"\d+")]
    first = lambda column: next(ast.literal_eval(v) for v in good[column] if v.startswith(("{", "[")) and v != "[]")  # noqa: E731
    credits = pd.read_csv(folder / "credits.csv", dtype=str, keep_default_na=False)
    director = next(c["name"] for crew in credits["crew"] for c in ast.literal_eval(crew) if c["job"] == "Director")
    return {"title": good["title"].iloc[0], "language": good["original_language"].iloc[0],
            "collection": first("belongs_to_collection")["name"], "country": first("production_countries")[0]["name"],
            "company": first("production_companies")[0]["name"], "director": director}


def test_each_movies_form_answers_in_words_with_the_spanish_sentence_labelled(page, site, movie_names):
    page.click("nav >> text=Movies catalog")
    cases = [("/movies/language", {"idioma": movie_names["language"]}),
             ("/movies/duration", {"pelicula": movie_names["title"]}),
             ("/movies/franchise", {"franquicia": movie_names["collection"]}),
             ("/movies/country", {"pais": movie_names["country"]}),
             ("/movies/production-company", {"productora": movie_names["company"]}),
             ("/movies/director", {"nombre_director": movie_names["director"]}),
             ("/movies/recommendation", {"titulo": movie_names["title"]})]
    for path, params in cases:
        status, expected = api(site, path, **params)
        assert status == 200, (path, expected)
        ask(page, path, params)
        root = f'form[data-query="{path}"] output'
        said = page.locator(f'{root} p[lang="es"]').inner_text()
        assert said == f"The API's answer (in Spanish): {expected['message']}"
        no_raw_keys(page, root, expected)
        if path == "/movies/recommendation":
            assert cards(page, root) == [s["title"] for s in expected["similar"]]
    shot(page, "movies-queries")


def test_the_movies_forms_placeholders_are_examples_that_answer(page, site):
    """Each movies input suggests a value of the loaded catalog (/catalog's movie_examples); typing exactly
    what the placeholder shows answers 200 in words, not a "not found"."""
    page.click("nav >> text=Movies catalog")
    inputs = page.locator("input[data-movie-example]")
    assert inputs.count() == 7
    for k in range(inputs.count()):
        box = inputs.nth(k)
        example = box.get_attribute("placeholder")
        assert example and example.startswith("e.g. "), box.get_attribute("name")
        path = box.evaluate("input => input.form.dataset.query")
        params = {box.get_attribute("name"): example.removeprefix("e.g. ")}
        assert api(site, path, **params)[0] == 200, (path, params)
        text = ask(page, path, params)
        assert "not found" not in text.lower() and text.strip(), (path, text)


def test_an_answer_the_api_refuses_shows_its_message_and_parameter(page, site):
    page.click("nav >> text=Movies catalog")
    page.expected_failures.append("movies/country?pais=Atlantis")
    status, body = api(site, "/movies/country", pais="Atlantis")
    assert status == 404
    ask(page, "/movies/country", {"pais": "Atlantis"})
    error = page.locator('form[data-query="/movies/country"] .error')
    assert error.count() == 1
    assert cap(body["error"]["message"]) in error.inner_text()
    assert f"parameter “{body['error']['parameter']}”" in error.inner_text()


def test_a_refused_movie_title_offers_its_suggestions_as_buttons(page, site, movie_names):
    page.click("nav >> text=Movies catalog")
    typo = movie_names["title"] + "x"
    status, body = api(site, "/movies/duration", pelicula=typo)
    assert status == 404 and body["error"]["suggestions"]
    page.expected_failures.append("movies/duration")
    ask(page, "/movies/duration", {"pelicula": typo})
    buttons = page.locator('form[data-query="/movies/duration"] .suggestions button')
    assert buttons.all_inner_texts() == body["error"]["suggestions"]
    _, expected = api(site, "/movies/duration", pelicula=body["error"]["suggestions"][0])
    buttons.first.click()
    said = page.locator('form[data-query="/movies/duration"] p[lang="es"]')
    said.wait_for()
    assert said.inner_text().endswith(expected["message"])


def test_invalid_input_is_stopped_before_sending(page, site):
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "max-duration" in r.url else None)
    page.click("nav >> text=Streaming catalogs")
    form = page.locator('form[data-query="/max-duration"]')
    _, catalog = api(site, "/catalog")
    form.locator('[name="year"]').fill(str(catalog["release_years"]["min"] - 1))
    form.locator("button").click()
    error = form.locator("output .error")
    error.wait_for()
    assert error.inner_text().startswith("Year:") and sent == []
    shot(page, "invalid-input")


def test_reports_are_linked(page, site):
    _, listing = api(site, "/reports")
    page.click("nav >> text=Reports")
    links = page.locator("#report-list a")
    links.first.wait_for()
    assert sorted(links.all_inner_texts()) == sorted(r["name"] for r in listing["reports"])
    shot(page, "reports")


# --- 5. no horizontal scrolling; keyboard and screen readers -----------------------------------
def page_states(site):
    """Each state of the page: a name and the steps that bring the tab there."""
    user = known_user(site)
    _, found = api(site, "/titles", q="e", limit=20)
    q = found["items"][0]["title"][:4]

    def for_you(tab):
        tab.goto(site[0] + "#/for-you")
        tab.locator('#user-form [name="user_id"]').fill(str(user))
        tab.locator("#user-form button").click()
        tab.locator("#user-form output .card").first.wait_for()

    def visitor(tab):
        tab.goto(site[0] + "#/for-you")
        rate(tab, found["items"][0], 4.5)
        tab.click("#visitor-recommend")
        tab.locator("#visitor-form output .card").first.wait_for()

    def query_answer(tab):
        tab.goto(site[0] + "#/movies")
        form = tab.locator('form[data-query="/movies/recommendation"]')
        form.locator("input").fill(found["items"][0]["title"])
        tab.locator('form[data-query="/movies/production-company"] input').fill("a")
        for path in ("/movies/production-company", "/movies/recommendation"):
            tab.locator(f'form[data-query="{path}"] button').click()
            tab.locator(f'form[data-query="{path}"] output > :not(.pending)').first.wait_for()

    def streaming(tab):
        tab.goto(site[0] + "#/streaming")
        for form in tab.locator("#tab-streaming form[data-query]").all():
            form.locator("button").first.click()
            form.locator("output > :not(.pending)").first.wait_for()

    return [
        ("home", lambda tab: tab.goto(site[0] + "#/")),
        ("results", lambda tab: (tab.goto(site[0] + f"#/search?q={quote(q)}"),
                                 tab.locator("#results .card").first.wait_for())),
        ("title", lambda tab: (tab.goto(site[0] + "#/title/ns1"),
                               tab.locator("#title-page .similar .card").first.wait_for())),
        ("for-you", for_you), ("visitor", visitor), ("query-answer", query_answer), ("streaming", streaming),
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_state_scrolls_sideways(browser, site, width):
    context, tab = open_tab(browser, site, viewport={"width": width, "height": 800}, is_mobile=True)
    tab.expected_failures += ["movies/production-company", "movies/recommendation", "actor"]
    overflow = {}
    for name, steps in page_states(site):
        steps(tab)
        tab.wait_for_load_state("networkidle")
        widths = tab.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if widths[0] > widths[1]:
            overflow[name] = widths
        if width == 390 and name in ("home", "results", "title", "for-you", "visitor"):
            shot(tab, f"phone-{name}", full_page=False)
    context.close()
    assert overflow == {}, f"horizontal scrolling at {width} px"
    assert tab.problems == []


HEADINGS_IN_ORDER = """() => {
  const levels = Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6'))
    .filter((h) => h.offsetParent !== null).map((h) => Number(h.tagName[1]));
  return levels.every((level, k) => k === 0 ? level === 1 : level <= levels[k - 1] + 1);
}"""
UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter((c) => !c.closest('label') && !c.getAttribute('aria-label') && !c.labels?.length).map((c) => c.name)"""


def test_every_control_is_labelled_headings_are_in_order_and_answers_are_live(browser, site):
    context, tab = open_tab(browser, site)
    tab.expected_failures += ["movies/production-company", "movies/recommendation", "actor"]
    for name, steps in page_states(site):
        steps(tab)
        tab.wait_for_load_state("networkidle")
        assert tab.evaluate(UNLABELLED) == [], name
        assert tab.evaluate(HEADINGS_IN_ORDER), name
    assert tab.locator("#search-results").get_attribute("aria-live") == "polite"
    assert tab.locator("#title-page").get_attribute("aria-live") == "polite"
    assert tab.locator("output").count() >= 10              # <output> is a live status region
    tab.goto(site[0] + "#/streaming")
    tab.expected_failures.append("actor?platform=h")
    tab.locator('form[data-query="/actor"] [name="platform"]').select_option("h")
    tab.locator('form[data-query="/actor"] button').click()
    alert = tab.locator('form[data-query="/actor"] output [role="alert"]')
    alert.wait_for()
    assert alert.count() == 1
    context.close()
    assert tab.problems == []


def test_keyboard_only_on_a_phone_sized_screen(browser, site):
    context, tab = open_tab(browser, site, viewport={"width": 390, "height": 844}, is_mobile=True)
    _, some = api(site, "/titles", q="e", limit=1)
    q = some["items"][0]["title"][:4]
    _, found = api(site, "/titles", q=q, limit=20)
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.className") == "skip"
    tab.keyboard.press("Enter")
    for _ in range(20):                             # tab to the search box
        tab.keyboard.press("Tab")
        if tab.evaluate("document.activeElement.id") == "search-q":
            break
    assert tab.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none", "visible focus"
    tab.keyboard.type(q)
    tab.keyboard.press("Enter")
    tab.locator("#results .card").first.wait_for()
    for _ in range(20):                             # tab to the first result
        tab.keyboard.press("Tab")
        if tab.evaluate("document.activeElement.closest('#results') !== null"):
            break
    tab.keyboard.press("Enter")
    tab.wait_for_url(f"**#/title/{found['items'][0]['id']}")
    tab.locator("#title-page h2").wait_for()
    assert tab.evaluate("document.activeElement.tagName") == "H2"
    shot(tab, "phone", full_page=False)
    context.close()
    assert tab.problems == []
