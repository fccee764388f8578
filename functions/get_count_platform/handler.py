"""Lambda: GET /count-platform, the number of movies on a platform."""

from typing import Annotated

from streamlens import queries
from streamlens.params import Platform
from streamlens.query_function import QueryFunction
from streamlens.schemas import CountPlatform

fn = QueryFunction("get_count_platform", tags=["streaming catalog"])


@fn.get("/count-platform", response_model=CountPlatform, summary="Movies per platform",
        description="The number of movies (type movie) on the platform.")
async def get_count_platform(slice: Annotated[dict, fn.data], platform: Platform) -> dict:
    return queries.get_count_platform(slice, platform=platform)


router, app, handler = fn.router, fn.app, fn.handler
