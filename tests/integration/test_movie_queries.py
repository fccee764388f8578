"""The six movies queries through their handlers, against answers computed here
from the raw movies files (csv + ast.literal_eval)."""

from __future__ import annotations

import ast
import io
import unicodedata
from collections import Counter, defaultdict

import pandas as pd
import pytest

from streamlens.combined_app import load_handler
from streamlens.release import object_key, read_manifest
from tests.aws import moto_bucket
from tests.helpers import call
from tests.reference import literal_names

NAMES = ("peliculas_idioma", "peliculas_duracion", "franquicia", "peliculas_pais", "productoras_exitosas",
         "get_director")
PATHS = {"peliculas_idioma": "/movies/language", "peliculas_duracion": "/movies/duration",
         "franquicia": "/movies/franchise", "peliculas_pais": "/movies/country",
         "productoras_exitosas": "/movies/production-company", "get_director": "/movies/director"}


@pytest.fixture(scope="module")
def kept(shared_data):
    meta = pd.read_csv(shared_data / "movies" / "movies_metadata.csv", dtype=str, keep_default_na=False)
    return meta[(meta["release_date"] != "") & ~meta["id"].duplicated()]


@pytest.fixture(scope="module")
def handlers(real_release):
    with moto_bucket("movies-test") as (_settings, store):
        real_release.copy_into(store)
        yield {name: load_handler(name).handler for name in (*NAMES, "titles", "recomendacion")}


def ask(handlers, name, **params):
    return call(handlers[name], PATHS[name], params)


def test_peliculas_idioma(handlers, kept):
    for code in ("en", "fr", "ja"):
        expected = int((kept["original_language"] == code).sum())
        status, body = ask(handlers, "peliculas_idioma", idioma=code.upper())
        assert status == 200 and body["count"] == expected
        assert body["message"] == f"{expected} películas fueron estrenadas en idioma {code}"


def _without_accents(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def test_peliculas_duracion_with_accents_and_shared_titles(handlers, kept):
    status, body = ask(handlers, "peliculas_duracion", pelicula="toy STORY")
    assert status == 200
    assert body["movies"] == [{"title": "Toy Story", "runtime": 81.0, "release_year": 1995, "id": 862}]
    assert body["message"] == "Toy Story. Duración: 81 minutos. Año: 1995"
    accented = kept[kept["title"].map(lambda t: t != _without_accents(t))]
    row = accented.iloc[0]
    plain = unicodedata.normalize("NFKD", row["title"]).encode("ascii", "ignore").decode()
    status, body = ask(handlers, "peliculas_duracion", pelicula=plain.upper())
    assert status == 200 and int(row["id"]) in [m["id"] for m in body["movies"]]
    shared = kept.groupby(kept["title"].str.lower())["id"].count()
    title = shared[shared > 1].index[0]
    rows = kept[kept["title"].str.lower() == title]
    status, body = ask(handlers, "peliculas_duracion", pelicula=title)
    assert sorted(m["id"] for m in body["movies"]) == sorted(int(i) for i in rows["id"])
    year = int(rows["release_date"].iloc[0][:4])
    status, body = ask(handlers, "peliculas_duracion", pelicula=title, year=year)
    assert {m["id"] for m in body["movies"]} == {int(i) for i, d in zip(rows["id"], rows["release_date"])
                                                 if d.startswith(str(year))}


def test_franquicia(handlers, kept):
    members = kept[kept["belongs_to_collection"].map(lambda v: literal_names(v)[:1] == ["Toy Story Collection"])]
    revenue = members["revenue"].map(lambda v: float(v or 0))
    status, body = ask(handlers, "franquicia", franquicia="toy story collection")
    assert status == 200
    assert (body["count"], body["total_revenue"], body["average_revenue"]) == \
        (len(members), revenue.sum(), revenue.mean())
    assert body["message"].startswith(f"La franquicia Toy Story Collection posee {len(members)} películas")


def test_peliculas_pais_and_productoras(handlers, kept):
    france = int(kept["production_countries"].map(lambda v: "France" in literal_names(v)).sum())
    status, body = ask(handlers, "peliculas_pais", pais="FRANCE")
    assert status == 200 and body["count"] == france
    assert body["message"] == f"Se produjeron {france} películas en el país France"
    pixar = kept[kept["production_companies"].map(lambda v: "Pixar Animation Studios" in literal_names(v))]
    status, body = ask(handlers, "productoras_exitosas", productora="pixar animation studios")
    assert (body["count"], body["revenue"]) == (len(pixar), pixar["revenue"].map(lambda v: float(v or 0)).sum())


@pytest.fixture(scope="module")
def films(shared_data) -> dict[str, list[str]]:
    """Each director's movie ids, from the raw credits."""
    credits = pd.read_csv(shared_data / "movies" / "credits.csv", dtype=str, keep_default_na=False)
    directed = defaultdict(list)
    for _, row in credits.iterrows():
        for person in ast.literal_eval(row["crew"]):
            if person["job"] == "Director":
                directed[person["name"]].append(row["id"])
    return directed


def test_get_director(handlers, kept, films):
    name = max(films, key=lambda n: len(films[n]))
    rows = kept[kept["id"].isin(films[name])]
    returns = [float(r or 0) / float(b) if float(b or 0) else 0.0 for r, b in zip(rows["revenue"], rows["budget"])]
    status, body = ask(handlers, "get_director", nombre_director=name.lower())
    assert status == 200 and body["name"] == name
    assert body["total_return"] == pytest.approx(sum(returns), rel=1e-12)
    assert sorted(m["title"] for m in body["movies"]) == sorted(rows["title"])


def test_a_tiny_return_is_served_as_computed_not_rounded_to_zero():
    """Revenue 6 on a budget of 6.4 million (a row of the full file): 9.4e-7, which 4 decimals made 0."""
    from etl_job.movie_slices import build_movie_slices

    movies = pd.DataFrame({"id": [1, 2], "title": ["Tiny", "Zero"], "release_date": ["2000-01-01", "2001-01-01"],
                           "release_year": [2000, 2001], "runtime": [90.0, 80.0], "original_language": ["en", "en"],
                           "budget": [6.4e6, 0.0], "revenue": [6.0, 5.0], "return": [6 / 6.4e6, 0.0],
                           "collection": [None, None], "countries": [[], []], "companies": [[], []],
                           "directors": [["Jo Doe"], ["Jo Doe"]]})
    answer = build_movie_slices(movies)["get_director"]["answers"]["jo doe"]
    assert [m["return"] for m in answer["movies"]] == [6 / 6.4e6, 0.0]
    assert answer["total_return"] == 6 / 6.4e6 != 0


def test_unknown_names_suggest_the_closest_and_empty_is_a_400(handlers):
    status, body = ask(handlers, "peliculas_duracion", pelicula="Toy Stroy")
    assert status == 404 and "Toy Story" in body["error"]["suggestions"]
    status, body = ask(handlers, "franquicia", franquicia="toy story colection")
    assert status == 404 and "Toy Story Collection" in body["error"]["message"]
    status, body = ask(handlers, "peliculas_pais", pais="  ")
    assert status == 400 and body["error"]["parameter"] == "pais"
    status, body = ask(handlers, "peliculas_idioma", idioma="en", idiom="fr")
    assert status == 400 and body["error"]["parameter"] == "idiom"


def test_a_miss_builds_the_suggestion_names_once_per_slice():
    """Before, every not-found request rebuilt the name map of the whole slice."""
    from streamlens.errors import NotFound
    from streamlens.movie_queries import franquicia

    class Counting(dict):
        walks = 0

        def items(self):
            Counting.walks += 1
            return super().items()

    data = {"answers": Counting({"toy story collection": {"name": "Toy Story Collection", "count": 3,
                                                          "total_revenue": 1.0, "average_revenue": 1.0}})}
    for _ in range(3):
        with pytest.raises(NotFound) as miss:
            franquicia(data, "toy stori collection")
        assert miss.value.details["suggestions"] == ["Toy Story Collection"]
    assert Counting.walks == 1


def test_a_duration_query_for_a_year_none_of_the_matches_has_names_year_and_suggests_years():
    from streamlens.errors import NotFound
    from streamlens.movie_queries import peliculas_duracion

    data = {"answers": {"heat": [["Heat", 170.0, 1995, "949"], ["Heat", None, 1986, "2"]]}}
    with pytest.raises(NotFound) as miss:
        peliculas_duracion(data, "HEAT", year=2001)
    assert miss.value.details == {"parameter": "year", "suggestions": [1986, 1995]}
    answer = peliculas_duracion(data, "heat", year=1986)
    assert answer["movies"] == [{"title": "Heat", "runtime": None, "release_year": 1986, "id": "2"}]
    assert answer["message"] == "Heat. Duración: desconocida. Año: 1986"
    both = peliculas_duracion(data, "heat")["message"]
    assert both == "Heat. Duración: 170 minutos. Año: 1995 | Heat. Duración: desconocida. Año: 1986"


def test_the_etl_publishes_the_movies_table(s3_env, real_release):
    settings, store = s3_env
    real_release.copy_into(store)
    manifest = read_manifest(store, settings)
    movies = pd.read_parquet(io.BytesIO(store.get(object_key(manifest, "data/movies.parquet"))))
    assert len(movies) == manifest["counts"]["movies"] == 4622
    assert list(movies.loc[movies["id"] == 862, "genres"].iloc[0]) == ["Animation", "Comedy", "Family"]
    assert "movies/credits.csv" in manifest["inputs"] and "reports/rejects_movies.csv" in manifest["objects"]


def test_the_catalog_gives_each_movies_form_an_example_its_route_finds(handlers, kept, films):
    """The web forms' placeholders (/catalog's movie_examples): the language, collection, country, company and
    director with the most movies and the most voted title, counted here from the raw files (ties: any of them)."""
    examples = handlers["titles"]({"catalog": True}, None)["movie_examples"]
    languages = kept["original_language"].str.lower().value_counts()
    assert languages[examples["language"]] == languages.max()
    for name, column in (("collection", "belongs_to_collection"), ("country", "production_countries"),
                         ("company", "production_companies")):
        counts = Counter(n for v in kept[column] for n in (literal_names(v)[:1] if name == "collection"
                                                           else set(literal_names(v))))
        assert counts[examples[name]] == max(counts.values()), name
    in_kept = set(kept["id"])
    directed = {n: sum(i in in_kept for i in ids) for n, ids in films.items()}
    assert directed[examples["director"]] == max(directed.values())
    votes = kept["vote_count"].map(lambda v: float(v or 0))
    assert examples["title"] in set(kept.loc[votes == votes.max(), "title"])
    asked = {"peliculas_idioma": {"idioma": examples["language"]},
             "peliculas_duracion": {"pelicula": examples["title"]},
             "franquicia": {"franquicia": examples["collection"]}, "peliculas_pais": {"pais": examples["country"]},
             "productoras_exitosas": {"productora": examples["company"]},
             "get_director": {"nombre_director": examples["director"]}}
    for name, params in asked.items():
        status, body = ask(handlers, name, **params)
        assert status == 200 and (body.get("count") or body.get("movies")), (name, body)
    status, body = call(handlers["recomendacion"], "/movies/recommendation", {"titulo": examples["title"]})
    assert status == 200 and body["recommendations"]
