"""Lambda: GET /count-platform, the number of movies on a platform."""

from fastapi import APIRouter, Depends

from streamlens import queries
from streamlens.api import create_app, error_responses, make_handler, query_route, reject_unknown
from streamlens.params import Platform
from streamlens.release_cache import ReleaseCache
from streamlens.schemas import CountPlatform
from streamlens.layout import slice_object_name

PATH = "/count-platform"
SLICE = ReleaseCache.json_object("slice", slice_object_name("get_count_platform"))
router = APIRouter(tags=["streaming catalog"])


@router.get(PATH, response_model=CountPlatform, responses=error_responses(400, 422, 503),
            dependencies=[Depends(reject_unknown("platform"))],
            summary="Movies per platform", description="The number of movies (type movie) on the platform.")
async def get_count_platform(platform: Platform) -> dict:
    return queries.get_count_platform(await SLICE.get_async("slice"), platform=platform)


app = create_app([router], "streamlens: get_count_platform")
handler = make_handler(app, query_route(PATH))
