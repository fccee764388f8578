"""Lambda: GET /score-count, movies of a platform and year scored above a threshold."""

from fastapi import APIRouter, Depends

from streamlens import queries
from streamlens.api import create_app, error_responses, make_handler, query_route, reject_unknown
from streamlens.params import Platform, Scored, Year
from streamlens.release_cache import ReleaseCache
from streamlens.schemas import ScoreCount
from streamlens.layout import slice_object_name

PATH = "/score-count"
SLICE = ReleaseCache.json_object("slice", slice_object_name("get_score_count"))
router = APIRouter(tags=["streaming catalog"])


@router.get(PATH, response_model=ScoreCount, responses=error_responses(400, 422, 503),
            dependencies=[Depends(reject_unknown("platform", "scored", "year"))],
            summary="Movies scored above a threshold",
            description="How many movies of the platform released in `year` have a score (mean user rating) "
                        "strictly greater than `scored`.")
async def get_score_count(platform: Platform, scored: Scored, year: Year) -> dict:
    return queries.get_score_count(await SLICE.get_async("slice"), platform=platform, scored=scored, year=year)


app = create_app([router], "streamlens: get_score_count")
handler = make_handler(app, query_route(PATH))
