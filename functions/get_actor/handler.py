"""Lambda: GET /actor, the actor in most titles of a platform and release year."""

from fastapi import APIRouter, Depends

from streamlens import queries
from streamlens.api import create_app, error_responses, make_handler, query_route, reject_unknown
from streamlens.params import OptionalYear, Platform
from streamlens.release_cache import ReleaseCache
from streamlens.schemas import Actor
from streamlens.layout import slice_object_name

PATH = "/actor"
SLICE = ReleaseCache.json_object("slice", slice_object_name("get_actor"))
router = APIRouter(tags=["streaming catalog"])


@router.get(PATH, response_model=Actor, responses=error_responses(400, 404, 422, 503),
            dependencies=[Depends(reject_unknown("platform", "year"))],
            summary="Most frequent actor",
            description="The actor appearing in the most titles of the platform released in `year` (all years "
                        "when omitted); others with the same count are listed in `ties`. Ties: name A-Z. "
                        "A platform whose catalog has no cast data answers 404.")
async def get_actor(platform: Platform, year: OptionalYear = None) -> dict:
    return queries.get_actor(await SLICE.get_async("slice"), platform=platform, year=year)


app = create_app([router], "streamlens: get_actor")
handler = make_handler(app, query_route(PATH))
