"""Lambda: GET /movies/franchise, movies, total and average revenue of a collection."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from streamlens import movie_queries
from streamlens.api import create_app, error_responses, make_handler, query_route, reject_unknown
from streamlens.params import Text
from streamlens.release_cache import ReleaseCache
from streamlens.schemas import Franchise
from streamlens.layout import slice_object_name

PATH = "/movies/franchise"
SLICE = ReleaseCache.json_object("slice", slice_object_name("franquicia"))
router = APIRouter(tags=["movies catalog"])


@router.get(PATH, response_model=Franchise, response_model_by_alias=True,
            responses=error_responses(400, 404, 422, 503),
            dependencies=[Depends(reject_unknown("franquicia"))],
            summary="Movies, total and average revenue of a collection",
            description="Movies, total and average revenue of a collection. "
                        "Names match ignoring case and accents; one that matches nothing is a 404 "
                        "that suggests the closest names.")
async def franquicia(
    franquicia: Annotated[Text, Query(description="collection (franchise) name", examples=["Toy Story Collection"])],
) -> dict:
    return movie_queries.franquicia(await SLICE.get_async("slice"), franquicia)


app = create_app([router], "streamlens: franquicia")
handler = make_handler(app, query_route(PATH))
