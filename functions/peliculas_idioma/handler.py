"""Lambda: GET /movies/language, the number of movies in an original language."""

from typing import Annotated

from streamlens import movie_queries
from streamlens.params import LanguageCode
from streamlens.query_function import QueryFunction
from streamlens.schemas import LanguageCount

fn = QueryFunction("peliculas_idioma", tags=["movies catalog"], errors=(404,), note=movie_queries.NAME_MATCHING)


@fn.get("/movies/language", response_model=LanguageCount, summary="The number of movies in an original language")
async def peliculas_idioma(slice: Annotated[dict, fn.data], idioma: LanguageCode) -> dict:
    return movie_queries.peliculas_idioma(slice, idioma)


router, app, handler = fn.router, fn.app, fn.handler
