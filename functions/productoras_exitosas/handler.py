"""Lambda: GET /movies/production-company, total revenue and number of movies of a production company."""

from typing import Annotated

from streamlens import movie_queries
from streamlens.params import CompanyName
from streamlens.query_function import QueryFunction
from streamlens.schemas import CompanyRevenue

fn = QueryFunction("productoras_exitosas", tags=["movies catalog"], errors=(404,), note=movie_queries.NAME_MATCHING)


@fn.get("/movies/production-company", response_model=CompanyRevenue,
        summary="Total revenue and number of movies of a production company")
async def productoras_exitosas(slice: Annotated[dict, fn.data], productora: CompanyName) -> dict:
    return movie_queries.productoras_exitosas(slice, productora)


router, app, handler = fn.router, fn.app, fn.handler
