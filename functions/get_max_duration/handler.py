"""Lambda: GET /max-duration, the longest title for optional year, platform and duration type."""

from typing import Annotated, Literal

from fastapi import Query

from streamlens import queries
from streamlens.params import OptionalPlatform, OptionalYear
from streamlens.query_function import QueryFunction
from streamlens.schemas import MaxDuration

fn = QueryFunction("get_max_duration", tags=["streaming catalog"])


@fn.get("/max-duration", response_model=MaxDuration, errors=(404,), summary="Longest title",
        description="The title with the longest duration, optionally for one release year and platform. "
                    "Ties: title A-Z, then id.")
async def get_max_duration(
    slice: Annotated[dict, fn.data],
    year: OptionalYear = None,
    platform: OptionalPlatform = None,
    duration_type: Literal["min", "season"] = Query("min", description="minutes (movies) or seasons (shows)"),
) -> dict:
    return queries.get_max_duration(slice, year=year, platform=platform, duration_type=duration_type)


router, app, handler = fn.router, fn.app, fn.handler
