"""The catalog and movies queries (streamlens/queries.py, streamlens/movie_queries.py) on small hand-built slices,
laid out as etl_job/slices.py and etl_job/movie_slices.py write them, whose answers are known by construction."""

from __future__ import annotations

import pytest

from streamlens.errors import BadParameter, NotFound
from streamlens.movie_queries import (
    franquicia,
    get_director,
    peliculas_duracion,
    peliculas_idioma,
    peliculas_pais,
    productoras_exitosas,
)
from streamlens.queries import (
    check_year,
    get_actor,
    get_count_platform,
    get_max_duration,
    get_score_count,
    platform_name,
)

VALID = ["a", "d", "h", "n", "amazon", "disney", "hulu", "netflix"]

FIELDS = ["title", "id", "platform", "release_year", "duration_int", "duration_type"]
DURATION = {"fields": FIELDS, "answers": {
    "netflix|2020|min": ["Long Film", "ns1", "netflix", 2020, 200, "min"],
    "netflix|*|min": ["Longer Film", "ns2", "netflix", 2019, 250, "min"],
    "*|2020|min": ["Amazon Epic", "as1", "amazon", 2020, 300, "min"],
    "*|*|min": ["Amazon Epic", "as1", "amazon", 2020, 300, "min"],
    "hulu|*|season": ["Many Seasons", "hs1", "hulu", 2001, 12, "season"],
}}


def bad(call, *args, **kwargs) -> BadParameter:
    with pytest.raises(BadParameter) as caught:
        call(*args, **kwargs)
    return caught.value


def missing(call, *args, **kwargs) -> NotFound:
    with pytest.raises(NotFound) as caught:
        call(*args, **kwargs)
    return caught.value


def test_platform_name_accepts_a_code_or_name_and_none_is_none():
    assert [platform_name(v) for v in ("n", " Hulu ", "D", "amazon", None)] == ["netflix", "hulu", "disney", "amazon",
                                                                               None]


def test_an_unknown_platform_is_a_400_naming_the_parameter_and_the_valid_values():
    error = bad(platform_name, "hbo", "platforms")
    assert error.status == 400 and error.message.startswith("unknown platform 'hbo'; valid values: ")
    assert error.details == {"parameter": "platforms", "valid_values": VALID}
    assert bad(platform_name, "x").details["parameter"] == "platform"


@pytest.mark.parametrize("year", [None, 1880, 1881, 2020, 2099, 2100])
def test_years_from_1880_to_2100_are_accepted(year):
    assert check_year(year) == year


@pytest.mark.parametrize("year", [1879, 0, -1, 2101, 9999])
def test_a_year_outside_1880_to_2100_is_a_400(year):
    error = bad(check_year, year)
    assert error.message == f"year {year} is out of range"
    assert error.details == {"parameter": "year", "valid_values": "1880..2100"}


@pytest.mark.parametrize("params, title", [
    ({"year": 2020, "platform": "n"}, "Long Film"),
    ({"platform": "NETFLIX"}, "Longer Film"),
    ({"year": 2020}, "Amazon Epic"),
    ({}, "Amazon Epic"),
    ({"platform": "h", "duration_type": " Season "}, "Many Seasons"),
    ({"platform": "n", "year": 2020, "duration_type": None}, "Long Film"),
    ({"platform": "n", "year": 2020, "duration_type": ""}, "Long Film"),
])
def test_max_duration_answers_the_row_of_its_filters(params, title):
    answer = get_max_duration(DURATION, **params)
    row = next(r for r in DURATION["answers"].values() if r[0] == title)
    assert answer == dict(zip(FIELDS, row)) and answer["title"] == title


def test_max_duration_without_a_match_is_a_404_saying_what_was_asked():
    assert missing(get_max_duration, DURATION, 1999, "n").message == (
        "no title with a duration in min matches year=1999, platform=netflix")
    assert missing(get_max_duration, DURATION, None, None, "season").message == (
        "no title with a duration in season matches year=any, platform=any")


def test_max_duration_refuses_an_unknown_type_a_bad_year_and_a_bad_platform():
    error = bad(get_max_duration, DURATION, duration_type="hours")
    assert error.message == "unknown duration_type 'hours'"
    assert error.details == {"parameter": "duration_type", "valid_values": ["min", "season"]}
    assert bad(get_max_duration, DURATION, year=1700).details["parameter"] == "year"
    assert bad(get_max_duration, DURATION, platform="zz").details["parameter"] == "platform"


SCORES = {"answers": {"netflix|2020": [1.0, 3.0, 3.5, 3.5, 4.0, 5.0], "amazon|2019": [2.5]}}


@pytest.mark.parametrize("scored", [0, 0.5, 1.0, 3.0, 3.4, 3.5, 3.6, 4.0, 4.99, 5])
def test_score_count_counts_the_scores_strictly_above(scored):
    expected = sum(1 for s in SCORES["answers"]["netflix|2020"] if s > scored)
    assert get_score_count(SCORES, "netflix", scored, 2020) == {"platform": "netflix", "scored": scored,
                                                               "year": 2020, "count": expected}


def test_score_count_of_a_year_without_scored_movies_is_zero():
    assert get_score_count(SCORES, "a", 1.0, 2020)["count"] == 0
    assert get_score_count(SCORES, "a", 2.0, 2019)["count"] == 1


@pytest.mark.parametrize("scored", [-0.01, 5.01, 10])
def test_score_count_refuses_a_score_off_the_scale(scored):
    error = bad(get_score_count, SCORES, "n", scored, 2020)
    assert error.message == f"scored {scored} is outside the rating scale"
    assert error.details == {"parameter": "scored", "valid_values": "0..5"}


def test_score_count_refuses_a_bad_year_and_platform():
    assert bad(get_score_count, SCORES, "n", 3, 1800).details["parameter"] == "year"
    assert bad(get_score_count, SCORES, "x", 3, 2020).details["parameter"] == "platform"


def test_count_platform_reads_the_platforms_count():
    data = {"answers": {"netflix": 7, "amazon": 0, "disney": 3, "hulu": 1}}
    assert get_count_platform(data, "N") == {"platform": "netflix", "count": 7}
    assert get_count_platform(data, "amazon") == {"platform": "amazon", "count": 0}
    assert bad(get_count_platform, data, "hbo").details["valid_values"] == VALID


ACTORS = {"answers": {"netflix|2020": {"actor": "Ann", "appearances": 3, "ties": ["Bob"]},
                      "netflix|*": {"actor": "Cid", "appearances": 9, "ties": []}},
          "platforms_without_cast": ["hulu"], "platforms_without_titles": ["disney"]}


def test_actor_of_a_year_and_of_all_years():
    assert get_actor(ACTORS, "n", 2020) == {"platform": "netflix", "year": 2020, "actor": "Ann", "appearances": 3,
                                            "ties": ["Bob"]}
    assert get_actor(ACTORS, "netflix", None) == {"platform": "netflix", "year": None, "actor": "Cid",
                                                  "appearances": 9, "ties": []}


def test_actor_404s_say_why():
    assert missing(get_actor, ACTORS, "d", None).message == "the disney catalog has no titles in this release"
    assert missing(get_actor, ACTORS, "h", 2020).message == (
        "the hulu catalog has no cast data, so no actor can be named")
    assert missing(get_actor, ACTORS, "n", 1999).message == "no netflix title released in 1999 lists its cast"
    assert missing(get_actor, ACTORS, "a", None).message == "no amazon title lists its cast"


def test_actor_of_a_slice_without_the_empty_platforms_list():
    data = {"answers": {}, "platforms_without_cast": []}
    assert missing(get_actor, data, "n", None).message == "no netflix title lists its cast"


def test_actor_refuses_a_bad_year_and_platform():
    assert bad(get_actor, ACTORS, "n", 3000).details["parameter"] == "year"
    assert bad(get_actor, ACTORS, "q", 2000).details["parameter"] == "platform"


# -- the movies queries ---------------------------------------------------------------------------------------

def test_peliculas_idioma_counts_and_words_one_and_many():
    data = {"answers": {"en": 3, "fr": 1}}
    assert peliculas_idioma(data, " EN ") == {"idioma": "en", "count": 3,
                                              "message": "3 películas fueron estrenadas en idioma en"}
    assert peliculas_idioma(data, "fr")["message"] == "1 película fue estrenada en idioma fr"


def test_an_empty_name_is_a_400_naming_the_parameter_and_what_it_wants():
    for value in ("", "   ", None):
        error = bad(peliculas_idioma, {"answers": {"en": 1}}, value)
        assert error.message == "idioma must not be empty"
        assert error.details == {"parameter": "idioma", "valid_values": "a original language code (e.g. en)"}


def test_an_unknown_name_is_a_404_suggesting_the_closest_display_names():
    data = {"answers": {"pixar animation": {"name": "Pixar Animation", "count": 2, "revenue": 10.0},
                        "pixel studio": {"name": "Pixel Studio", "count": 1, "revenue": 1.0},
                        "warner bros": {"name": "Warner Bros", "count": 5, "revenue": 9.0}}}
    error = missing(productoras_exitosas, data, "Pixar Animatio")
    assert error.details == {"parameter": "productora", "suggestions": ["Pixar Animation"]}
    assert error.message == "no production company matches 'Pixar Animatio'; closest: Pixar Animation"
    nothing = missing(productoras_exitosas, data, "zzzzzz")
    assert nothing.message == "no production company matches 'zzzzzz'" and nothing.details["suggestions"] == []


def test_suggestions_show_each_kind_of_answer_by_its_display_name():
    titles = {"answers": {"toy story": [["Toy Story", 81.0, 1995, 862]]}}
    assert missing(peliculas_duracion, titles, "Toy Stori").details["suggestions"] == ["Toy Story"]
    languages = {"answers": {"en": 3, "es": 1}}
    assert missing(peliculas_idioma, languages, "enn").details["suggestions"] == ["en"]
    assert sorted(languages.pop("_names")) == ["en", "es"], "the names are built once per slice and kept in it"


QUERIES = [(peliculas_idioma, "idioma", "original language code (e.g. en)"),
           (peliculas_duracion, "pelicula", "movie title"), (franquicia, "franquicia", "collection"),
           (peliculas_pais, "pais", "production country"), (productoras_exitosas, "productora", "production company"),
           (get_director, "nombre_director", "director")]


@pytest.mark.parametrize("query, parameter, what", QUERIES, ids=lambda v: getattr(v, "__name__", None))
def test_each_query_names_its_parameter_and_what_it_looks_up(query, parameter, what):
    empty = bad(query, {"answers": {}}, " ")
    assert empty.message == f"{parameter} must not be empty"
    assert empty.details == {"parameter": parameter, "valid_values": f"a {what}"}
    unknown = missing(query, {"answers": {}}, "Zq")
    assert unknown.message == f"no {what} matches 'Zq'"
    assert unknown.details == {"parameter": parameter, "suggestions": []}


def test_the_display_names_are_built_once_per_slice():
    data = {"answers": {"pixar": {"name": "Pixar", "count": 1, "revenue": 1.0}}}
    assert missing(productoras_exitosas, data, "pixa").details["suggestions"] == ["Pixar"]
    data["_names"]["pixar"] = "Pixar (kept)"
    assert missing(productoras_exitosas, data, "pixa").details["suggestions"] == ["Pixar (kept)"]


def test_several_suggestions_are_joined_by_commas_closest_first():
    data = {"answers": {"pixar animations": {"name": "Pixar Animations"},
                        "pixar animation": {"name": "Pixar Animation"}}}
    assert missing(productoras_exitosas, data, "pixar animatio").message == (
        "no production company matches 'pixar animatio'; closest: Pixar Animation, Pixar Animations")


MOVIES = {"answers": {"toy story": [["Toy Story", 81.0, 1995, 862], ["Toy story", None, 2010, 9],
                                    ["TOY STORY", 95.5, 2010, 10]]}}


def test_peliculas_duracion_lists_every_movie_of_the_title_or_of_that_year():
    answer = peliculas_duracion(MOVIES, "toy STORY")
    assert answer["pelicula"] == "toy STORY"
    assert answer["movies"] == [{"title": "Toy Story", "runtime": 81.0, "release_year": 1995, "id": 862},
                                {"title": "Toy story", "runtime": None, "release_year": 2010, "id": 9},
                                {"title": "TOY STORY", "runtime": 95.5, "release_year": 2010, "id": 10}]
    assert answer["message"] == ("Toy Story. Duración: 81 minutos. Año: 1995 | Toy story. Duración: desconocida. "
                                 "Año: 2010 | TOY STORY. Duración: 95.5 minutos. Año: 2010")
    in_1995 = peliculas_duracion(MOVIES, "Toy Story", 1995)
    assert [m["id"] for m in in_1995["movies"]] == [862]
    assert in_1995["message"] == "Toy Story. Duración: 81 minutos. Año: 1995"


def test_peliculas_duracion_in_a_year_without_the_title_suggests_its_years():
    error = missing(peliculas_duracion, MOVIES, "toy story", 2000)
    assert error.message == "'Toy Story' was not released in 2000; release years: [1995, 2010]"
    assert error.details == {"parameter": "year", "suggestions": [1995, 2010]}
    assert bad(peliculas_duracion, MOVIES, "toy story", 1500).details["parameter"] == "year"


def test_franquicia_sums_and_averages_in_whole_units():
    data = {"answers": {"toy story collection": {"name": "Toy Story Collection", "count": 3,
                                                 "total_revenue": 1_234_567.5, "average_revenue": 411_522.4}}}
    answer = franquicia(data, "Toy Story Collection")
    assert answer == {"name": "Toy Story Collection", "count": 3, "total_revenue": 1_234_567.5,
                      "average_revenue": 411_522.4,
                      "message": "La franquicia Toy Story Collection posee 3 películas, una ganancia total de "
                                 "1,234,568 y una ganancia promedio de 411,522"}
    one = {"answers": {"solo": {"name": "Solo", "count": 1, "total_revenue": 0.4, "average_revenue": 0.4}}}
    assert franquicia(one, "solo")["message"] == ("La franquicia Solo posee 1 película, una ganancia total de 0 y "
                                                  "una ganancia promedio de 0")


def test_peliculas_pais_words_one_and_many():
    data = {"answers": {"france": {"name": "France", "count": 2}, "peru": {"name": "Perú", "count": 1}}}
    assert peliculas_pais(data, "FRANCE") == {"name": "France", "count": 2,
                                              "message": "Se produjeron 2 películas en el país France"}
    assert peliculas_pais(data, "peru")["message"] == "Se produjo 1 película en el país Perú"


def test_productoras_exitosas_says_revenue_and_count():
    data = {"answers": {"pixar": {"name": "Pixar", "count": 1, "revenue": 12_345_678.9}}}
    assert productoras_exitosas(data, "pixar") == {
        "name": "Pixar", "count": 1, "revenue": 12_345_678.9,
        "message": "La productora Pixar ha tenido un revenue de 12,345,679 con 1 película"}


def test_get_director_sums_the_return_to_two_places_in_the_sentence():
    films = [{"title": "A", "release_date": "2000-01-01", "return": 2.5, "budget": 1.0, "revenue": 2.5},
             {"title": "B", "release_date": "2001-01-01", "return": 0.004, "budget": 1.0, "revenue": 0.0}]
    data = {"answers": {"ana lopez": {"name": "Ana López", "total_return": 2.504, "movies": films}}}
    answer = get_director(data, "ANA LOPEZ")
    assert answer["movies"] == films and answer["total_return"] == 2.504
    assert answer["message"] == "Ana López suma un retorno total de 2.50 con 2 películas"
    assert bad(get_director, data, " ").details["parameter"] == "nombre_director"
