"""Lambda: GET /movies/director, a director's success (total return) and movies."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from streamlens import movie_queries
from streamlens.api import create_app, error_responses, make_handler, query_route, reject_unknown
from streamlens.params import Text
from streamlens.release_cache import ReleaseCache
from streamlens.schemas import Director
from streamlens.layout import slice_object_name

PATH = "/movies/director"
SLICE = ReleaseCache.json_object("slice", slice_object_name("get_director"))
router = APIRouter(tags=["movies catalog"])


@router.get(PATH, response_model=Director, response_model_by_alias=True,
            responses=error_responses(400, 404, 422, 503),
            dependencies=[Depends(reject_unknown("nombre_director"))],
            summary="A director's success (total return) and movies",
            description="A director's success (total return) and movies. "
                        "Names match ignoring case and accents; one that matches nothing is a 404 "
                        "that suggests the closest names.")
async def get_director(
    nombre_director: Annotated[Text, Query(description="director's name", examples=["John Lasseter"])],
) -> dict:
    return movie_queries.get_director(await SLICE.get_async("slice"), nombre_director)


app = create_app([router], "streamlens: get_director")
handler = make_handler(app, query_route(PATH))
