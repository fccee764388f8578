"""Lambda: GET /movies/country, the number of movies produced in a country."""

from typing import Annotated

from streamlens import movie_queries
from streamlens.params import CountryName
from streamlens.query_function import QueryFunction
from streamlens.schemas import CountryCount

fn = QueryFunction("peliculas_pais", tags=["movies catalog"], errors=(404,), note=movie_queries.NAME_MATCHING)


@fn.get("/movies/country", response_model=CountryCount, summary="The number of movies produced in a country")
async def peliculas_pais(slice: Annotated[dict, fn.data], pais: CountryName) -> dict:
    return movie_queries.peliculas_pais(slice, pais)


router, app, handler = fn.router, fn.app, fn.handler
