"""The six movies queries as plain functions over their slices (etl_job.movie_slices).

Names and titles match ignoring case and accents; a name that matches
nothing is a 404 that suggests the closest existing names. Each answer has
structured fields and a `message` sentence, in Spanish as the product's
original brief words them.
"""

from __future__ import annotations

from typing import Any

from .errors import BadParameter, NotFound
from .queries import check_year
from .text import closest, match_key

# what each movies route's description says of its name parameter
NAME_MATCHING = ("Names match ignoring case and accents; one that matches nothing is a 404 that suggests the "
                 "closest names.")


def _names(data: dict) -> dict[str, str]:
    """Match key -> display name, built once per loaded slice (the release cache replaces the slice, and
    with it this map, when a new release goes live), not on every miss."""
    if "_names" not in data:
        data["_names"] = {k: (v["name"] if isinstance(v, dict) else (v[0][0] if isinstance(v, list) else k))
                          for k, v in data["answers"].items()}
    return data["_names"]


def _lookup(data: dict, parameter: str, value: str, what: str) -> tuple[str, Any]:
    key = match_key(value or "")
    if not key:
        raise BadParameter(parameter, f"{parameter} must not be empty", f"a {what}")
    answer = data["answers"].get(key)
    if answer is None:
        suggestions = closest(key, _names(data))
        hint = f"; closest: {', '.join(suggestions)}" if suggestions else ""
        raise NotFound(f"no {what} matches {value!r}{hint}", parameter=parameter, suggestions=suggestions)
    return key, answer


def _money(value: float) -> str:
    return f"{value:,.0f}"


def _movies(count: int) -> str:
    return f"{count} película" if count == 1 else f"{count} películas"


def peliculas_idioma(data: dict, idioma: str) -> dict[str, Any]:
    key, count = _lookup(data, "idioma", idioma, "original language code (e.g. en)")
    released = "fue estrenada" if count == 1 else "fueron estrenadas"
    return {"idioma": key, "count": count, "message": f"{_movies(count)} {released} en idioma {key}"}


def peliculas_duracion(data: dict, pelicula: str, year: int | None = None) -> dict[str, Any]:
    check_year(year)
    _, matches = _lookup(data, "pelicula", pelicula, "movie title")
    movies = [{"title": t, "runtime": runtime, "release_year": y, "id": i} for t, runtime, y, i in matches
              if year is None or y == year]
    if not movies:
        years = sorted({y for _, _, y, _ in matches})
        raise NotFound(f"{matches[0][0]!r} was not released in {year}; release years: {years}",
                       parameter="year", suggestions=years)
    sentences = [_duration_sentence(m) for m in movies]
    return {"pelicula": pelicula, "movies": movies, "message": " | ".join(sentences)}


def _duration_sentence(movie: dict) -> str:
    minutes = "desconocida" if movie["runtime"] is None else f"{movie['runtime']:g} minutos"
    return f"{movie['title']}. Duración: {minutes}. Año: {movie['release_year']}"


def franquicia(data: dict, franquicia: str) -> dict[str, Any]:
    _, f = _lookup(data, "franquicia", franquicia, "collection")
    return {**f, "message": f"La franquicia {f['name']} posee {_movies(f['count'])}, una ganancia total de "
                            f"{_money(f['total_revenue'])} y una ganancia promedio de {_money(f['average_revenue'])}"}


def peliculas_pais(data: dict, pais: str) -> dict[str, Any]:
    _, c = _lookup(data, "pais", pais, "production country")
    produced = "produjo" if c["count"] == 1 else "produjeron"
    return {**c, "message": f"Se {produced} {_movies(c['count'])} en el país {c['name']}"}


def productoras_exitosas(data: dict, productora: str) -> dict[str, Any]:
    _, c = _lookup(data, "productora", productora, "production company")
    return {**c, "message": f"La productora {c['name']} ha tenido un revenue de {_money(c['revenue'])} "
                            f"con {_movies(c['count'])}"}


def get_director(data: dict, nombre_director: str) -> dict[str, Any]:
    _, d = _lookup(data, "nombre_director", nombre_director, "director")
    return {**d, "message": f"{d['name']} suma un retorno total de {d['total_return']:.2f} "
                            f"con {_movies(len(d['movies']))}"}
