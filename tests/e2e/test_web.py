"""The web interface end to end: the local run (the `site` fixture: embedded S3, ETL on generated data,
API and web/ on one port) driven by Playwright in Debian's headless Chromium. Expected answers come from the API
itself, asked directly over HTTP. Screenshots go to .local/test-output/screenshots/."""

from __future__ import annotations

import ast
import shutil

import httpx
import pandas as pd
import pytest

from tests.helpers import REPO

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
SCREENSHOTS = REPO / ".local" / "test-output" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, site):
    """A fresh page; any console error or warning, page error or request to another host fails the test,
    except Chromium's "Failed to load resource" for an API call the test makes fail on purpose (listed
    in `page.expected_failures`): the browser logs every 4xx it receives."""
    base, _ = site
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    tab.expected_failures = []
    problems: list[str] = []

    def console(message) -> None:
        url = message.location.get("url", "")
        if message.type in ("error", "warning") and not any(f in url for f in tab.expected_failures):
            problems.append(f"console {message.type}: {message.text} ({url})")

    tab.on("console", console)
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on("request", lambda r: None if r.url.startswith((base, "data:")) else problems.append(f"fetched {r.url}"))
    tab.goto(base)
    tab.wait_for_function("document.querySelector('select[data-platforms] option') !== null")
    yield tab
    context.close()
    assert problems == []


def api(site, path: str, **params) -> tuple[int, dict]:
    response = httpx.get(site[0] + path.lstrip("/"), params=params, timeout=30)
    return response.status_code, response.json()


def shown_as(value, key: str = "") -> str:
    """How the page writes a JSON value: whole numbers with thousands separators (not years), lists
    comma-joined."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(shown_as(v, key) for v in value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        return f"{int(value)}" if "year" in key else f"{int(value):,}"
    return str(value).lower() if isinstance(value, bool) else str(value)


def shot(tab, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def ask(tab, path: str, params: dict) -> str:
    form = tab.locator(f'form[data-query="{path}"]')
    for name, value in params.items():
        field = form.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(str(value))
        else:
            field.fill(str(value))
    form.locator("button").click()
    output = form.locator("output")
    output.locator(":scope > :not(.pending)").first.wait_for()
    return output.inner_text()


STREAMING_QUERIES = [
    ("/max-duration", {"platform": "n", "duration_type": "min"}),
    ("/max-duration", {"platform": "a", "year": 2020, "duration_type": "season"}),
    ("/score-count", {"platform": "n", "scored": 3, "year": 2020}),
    ("/count-platform", {"platform": "d"}),
    ("/actor", {"platform": "n"}),
]


@pytest.mark.parametrize("path, params", STREAMING_QUERIES)
def test_each_streaming_form_shows_the_api_answer(page, site, path, params):
    status, expected = api(site, path, **params)
    if status != 200:
        page.expected_failures.append(path.lstrip("/"))
    shown = ask(page, path, params)
    if status == 200:
        for key, value in expected.items():
            field = page.locator(f'form[data-query="{path}"] dd[data-field="{key}"]')
            assert field.inner_text() == shown_as(value, key)
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


def test_each_movies_form_shows_the_api_answer(page, site, movie_names):
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
        assert expected["message"] in ask(page, path, params)
    shot(page, "movies-queries")


def test_an_answer_the_api_refuses_shows_its_message(page, site):
    page.click("nav >> text=Movies catalog")
    page.expected_failures.append("movies/country?pais=Atlantis")
    status, body = api(site, "/movies/country", pais="Atlantis")
    assert status == 404
    shown = ask(page, "/movies/country", {"pais": "Atlantis"})
    assert body["error"]["message"] in shown
    assert page.locator('form[data-query="/movies/country"] .error').count() == 1


def test_invalid_input_is_stopped_before_sending(page, site):
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "max-duration" in r.url else None)
    form = page.locator('form[data-query="/max-duration"]')
    _, catalog = api(site, "/catalog")
    form.locator('[name="year"]').fill(str(catalog["release_years"]["min"] - 1))
    form.locator("button").click()
    error = form.locator("output .error")
    error.wait_for()
    assert error.inner_text().startswith("year:") and sent == []
    shot(page, "invalid-input")


def test_autocomplete_finds_a_title_and_opens_its_page(page, site):
    _, known = api(site, "/titles", q="e", limit=1)
    title = known["items"][0]
    page.click("nav >> text=Titles")
    box = page.locator("#title-q")
    box.press_sequentially(title["title"][:4], delay=40)
    wanted = f"{title['title']} ({title['platform']}, {title['release_year']})"
    page.wait_for_function("wanted => Array.from(document.querySelectorAll('#title-options option'))"
                           ".some(o => o.value === wanted)", arg=wanted)
    box.fill(wanted)
    box.press("Enter")
    page.wait_for_url(f"**#title/{title['id']}")
    page.locator("ol.similar li").first.wait_for()
    shot(page, "autocomplete-and-title")


def test_a_title_page_shows_details_and_five_clickable_similar_titles(page, site):
    _, similar = api(site, "/similar", title_id="ns1", n=5)
    _, details = api(site, "/titles/ns1")
    page.goto(site[0] + "#title/ns1")
    items = page.locator("ol.similar li a")
    items.first.wait_for()
    assert items.count() == 5
    assert [items.nth(k).inner_text() for k in range(5)] == [s["title"] for s in similar["similar"]]
    assert page.locator("#title-page h3").inner_text() == details["title"]
    score = "not rated yet" if details["score"] is None else f"{details['score']:.2f}"
    assert score in page.locator('#title-page [data-field="score"]').inner_text()
    shot(page, "title-page")
    items.first.click()
    page.wait_for_url(f"**#title/{similar['similar'][0]['id']}")
    page.wait_for_function("title => document.querySelector('#title-page h3')?.textContent === title",
                           arg=similar["similar"][0]["title"])


def test_a_title_page_predicts_for_a_user(page, site):
    ratings = pd.concat(pd.read_csv(f) for f in sorted((site[1] / "streaming" / "ratings").glob("*.csv")))
    user = int(ratings["userId"].iloc[0])
    _, expected = api(site, "/recommend", user_id=user, title_id="ns1")
    page.goto(site[0] + "#title/ns1")
    form = page.locator("#predict-form")
    form.wait_for()
    form.locator("input").fill(str(user))
    form.locator("input").press("Enter")
    message = form.locator("output .message")
    message.wait_for()
    assert f"Predicted rating {expected['predicted_rating']:.2f}" in message.inner_text()
    assert ("not recommended" in message.inner_text()) == (not expected["recommend"])


def test_a_users_recommendations_appear_and_cold_start_is_explained(page, site):
    ratings = pd.read_csv(sorted((site[1] / "streaming" / "ratings").glob("*.csv"))[0])
    user = int(ratings["userId"].iloc[0])
    _, expected = api(site, f"/users/{user}/recommendations", n=5, platform="n")
    page.click("nav >> text=For a user")
    form = page.locator("#user-form")
    form.locator('[name="user_id"]').fill(str(user))
    form.locator('[name="n"]').fill("5")
    form.locator('[name="platform"]').select_option("n")
    form.locator("button").click()
    rows = form.locator("tbody tr")
    rows.first.wait_for()
    assert [rows.nth(k).locator("td").first.inner_text() for k in range(rows.count())] == \
        [i["title_id"] for i in expected["items"]]
    shot(page, "user-recommendations")
    form.locator('[name="user_id"]').fill("987654321")
    form.locator("button").click()
    page.wait_for_function("document.querySelector('#user-form .message')?.textContent.includes('cold start')")


def test_reports_are_linked(page, site):
    _, listing = api(site, "/reports")
    page.click("nav >> text=Reports")
    links = page.locator("#report-list a")
    links.first.wait_for()
    shown = sorted(links.nth(k).inner_text() for k in range(links.count()))
    assert shown == sorted(r["name"] for r in listing["reports"])
    shot(page, "reports")


def test_keyboard_only_and_a_phone_sized_screen(browser, site):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    tab = context.new_page()
    tab.goto(site[0])
    tab.wait_for_function("document.querySelector('select[data-platforms] option') !== null")
    assert tab.evaluate("document.documentElement.scrollWidth") <= 390, "no horizontal scrolling on a phone"
    tab.keyboard.press("Tab")                       # the skip link
    tab.keyboard.press("Enter")
    for _ in range(40):                             # tab through to the count-platform form's button
        tab.keyboard.press("Tab")
        if tab.evaluate("document.activeElement.closest('form')?.dataset.query") == "/count-platform" and \
                tab.evaluate("document.activeElement.tagName") == "BUTTON":
            break
    tab.keyboard.press("Enter")
    tab.locator('form[data-query="/count-platform"] dd[data-field="count"]').wait_for()
    shot(tab, "phone")
    context.close()

