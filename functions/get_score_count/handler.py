"""Lambda: GET /score-count, movies of a platform and year scored above a threshold."""

from typing import Annotated

from streamlens import queries
from streamlens.params import Platform, Scored, Year
from streamlens.query_function import QueryFunction
from streamlens.schemas import ScoreCount

fn = QueryFunction("get_score_count", tags=["streaming catalog"])


@fn.get("/score-count", response_model=ScoreCount, summary="Movies scored above a threshold",
        description="How many movies of the platform released in `year` have a score (mean user rating) "
                    "strictly greater than `scored`.")
async def get_score_count(slice: Annotated[dict, fn.data], platform: Platform, scored: Scored, year: Year) -> dict:
    return queries.get_score_count(slice, platform=platform, scored=scored, year=year)


router, app, handler = fn.router, fn.app, fn.handler
