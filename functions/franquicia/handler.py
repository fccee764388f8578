"""Lambda: GET /movies/franchise, movies, total and average revenue of a collection."""

from typing import Annotated

from streamlens import movie_queries
from streamlens.params import CollectionName
from streamlens.query_function import QueryFunction
from streamlens.schemas import Franchise

fn = QueryFunction("franquicia", tags=["movies catalog"], errors=(404,), note=movie_queries.NAME_MATCHING)


@fn.get("/movies/franchise", response_model=Franchise, summary="Movies, total and average revenue of a collection")
async def franquicia(slice: Annotated[dict, fn.data], franquicia: CollectionName) -> dict:
    return movie_queries.franquicia(slice, franquicia)


router, app, handler = fn.router, fn.app, fn.handler
