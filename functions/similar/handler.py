"""Lambda: GET /similar, the streaming titles most similar in content to a title (precomputed)."""

from typing import Annotated

from fastapi import Query

from streamlens import similar
from streamlens.params import OptionalPlatform, OptionalText, OptionalTitleId, OptionalYear, how_many
from streamlens.query_function import QueryFunction
from streamlens.schemas import SimilarTitles

fn = QueryFunction("similar", tags=["recommender"], parse=similar.SimilarTitles.from_bytes)


@fn.get("/similar", response_model=SimilarTitles, response_model_exclude_none=True, errors=(404,),
        summary="Titles similar to a title",
        description="The n (default 5) titles whose content (description, genres, director, cast, country) "
                    "is most similar, best first, optionally only those on one platform. The same title on "
                    "two platforms counts once. Give `title` (matched ignoring case and accents; a title "
                    "several entries share means the most rated one unless `year` says otherwise) or "
                    "`title_id`.")
async def similar_titles(
    titles: Annotated[similar.SimilarTitles, fn.data],
    title: Annotated[OptionalText, Query(description="title text (or give title_id)",
                                         examples=["the queen's gambit"])] = None,
    title_id: OptionalTitleId = None,
    n: Annotated[int, *how_many(similar.MAX_N, similar.DEFAULT_N)] = similar.DEFAULT_N,
    platform: OptionalPlatform = None,
    year: Annotated[OptionalYear, Query(description="release year, to pick among entries sharing the title (not "
                                                    "with title_id)")] = None,
) -> dict:
    return similar.similar_titles(titles, title=title, title_id=title_id, n=n, platform=platform, year=year)


router, app, handler = fn.router, fn.app, fn.handler
