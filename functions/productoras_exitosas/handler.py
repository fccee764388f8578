"""Lambda: GET /movies/production-company, total revenue and number of movies of a production company."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from streamlens import movie_queries
from streamlens.api import create_app, error_responses, make_handler, query_route, reject_unknown
from streamlens.params import Text
from streamlens.release_cache import ReleaseCache
from streamlens.schemas import CompanyRevenue
from streamlens.layout import slice_object_name

PATH = "/movies/production-company"
SLICE = ReleaseCache.json_object("slice", slice_object_name("productoras_exitosas"))
router = APIRouter(tags=["movies catalog"])


@router.get(PATH, response_model=CompanyRevenue, response_model_by_alias=True,
            responses=error_responses(400, 404, 422, 503),
            dependencies=[Depends(reject_unknown("productora"))],
            summary="Total revenue and number of movies of a production company",
            description="Total revenue and number of movies of a production company. "
                        "Names match ignoring case and accents; one that matches nothing is a 404 "
                        "that suggests the closest names.")
async def productoras_exitosas(
    productora: Annotated[Text, Query(description="production company", examples=["Pixar Animation Studios"])],
) -> dict:
    return movie_queries.productoras_exitosas(await SLICE.get_async("slice"), productora)


app = create_app([router], "streamlens: productoras_exitosas")
handler = make_handler(app, query_route(PATH))
