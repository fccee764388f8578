"""Lambda: GET /movies/duration, runtime and release year of every movie with that title."""

from typing import Annotated

from fastapi import Query

from streamlens import movie_queries
from streamlens.params import MovieTitle, OptionalYear
from streamlens.query_function import QueryFunction
from streamlens.schemas import Runtimes

fn = QueryFunction("peliculas_duracion", tags=["movies catalog"], errors=(404,), note=movie_queries.NAME_MATCHING)


@fn.get("/movies/duration", response_model=Runtimes, summary="Runtime and release year of every movie with that title")
async def peliculas_duracion(
    slice: Annotated[dict, fn.data],
    pelicula: MovieTitle,
    year: Annotated[OptionalYear, Query(description="release year, to narrow titles shared by several movies")] = None,
) -> dict:
    return movie_queries.peliculas_duracion(slice, pelicula, year=year)


router, app, handler = fn.router, fn.app, fn.handler
