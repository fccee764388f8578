"""Lambda: GET /actor, the actor in most titles of a platform and release year."""

from fastapi import APIRouter, Depends, Query

from streamlens import queries
from streamlens.api import create_app, error_responses, make_handler, query_route, reject_unknown
from streamlens.release_cache import ReleaseCache
from streamlens.schemas import Actor
from streamlens.slices import slice_object_name

PATH = "/actor"
SLICE = ReleaseCache.json_object("slice", slice_object_name("get_actor"))
router = APIRouter(tags=["streaming catalog"])


@router.get(PATH, response_model=Actor, responses=error_responses(400, 404, 422, 503),
            dependencies=[Depends(reject_unknown("platform", "year"))],
            summary="Most frequent actor",
            description="The actor appearing in the most titles of the platform released in `year` (all years "
                        "when omitted); others with the same count are listed in `ties`. Ties: name A-Z. "
                        "A platform whose catalog has no cast data answers 404.")
async def get_actor(
    platform: str = Query(..., description="a, d, h, n or amazon, disney, hulu, netflix (any case)", examples=["n"]),
    year: int | None = Query(None, description="release year", examples=[2020]),
) -> dict:
    return queries.get_actor(SLICE.get("slice"), platform=platform, year=year)


app = create_app([router], "streamlens: get_actor")
handler = make_handler(app, query_route(PATH))
