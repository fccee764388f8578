"""Lambda: GET /max-duration, the longest title for optional year, platform and duration type."""

from typing import Literal

from fastapi import APIRouter, Depends, Query

from streamlens import queries
from streamlens.api import create_app, error_responses, make_handler, query_route, reject_unknown
from streamlens.params import OptionalPlatform, OptionalYear
from streamlens.release_cache import ReleaseCache
from streamlens.schemas import MaxDuration
from streamlens.layout import slice_object_name

PATH = "/max-duration"
SLICE = ReleaseCache.json_object("slice", slice_object_name("get_max_duration"))
router = APIRouter(tags=["streaming catalog"])


@router.get(PATH, response_model=MaxDuration, responses=error_responses(400, 404, 422, 503),
            dependencies=[Depends(reject_unknown("year", "platform", "duration_type"))],
            summary="Longest title",
            description="The title with the longest duration, optionally for one release year and platform. "
                        "Ties: title A-Z, then id.")
async def get_max_duration(
    year: OptionalYear = None,
    platform: OptionalPlatform = None,
    duration_type: Literal["min", "season"] = Query("min", description="minutes (movies) or seasons (shows)"),
) -> dict:
    return queries.get_max_duration(await SLICE.get_async("slice"), year=year, platform=platform,
                                    duration_type=duration_type)


app = create_app([router], "streamlens: get_max_duration")
handler = make_handler(app, query_route(PATH))
