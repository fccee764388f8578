"""Lambda: GET /movies/director, a director's success (total return) and movies."""

from typing import Annotated

from streamlens import movie_queries
from streamlens.params import DirectorName
from streamlens.query_function import QueryFunction
from streamlens.schemas import Director

fn = QueryFunction("get_director", tags=["movies catalog"], errors=(404,), note=movie_queries.NAME_MATCHING)


@fn.get("/movies/director", response_model=Director, summary="A director's success (total return) and movies")
async def get_director(slice: Annotated[dict, fn.data], nombre_director: DirectorName) -> dict:
    return movie_queries.get_director(slice, nombre_director)


router, app, handler = fn.router, fn.app, fn.handler
