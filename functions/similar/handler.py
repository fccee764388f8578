"""Lambda: GET /similar, the streaming titles most similar in content to a title (precomputed)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from streamlens import similar
from streamlens.api import create_app, error_responses, make_handler, query_route, reject_unknown
from streamlens.params import OptionalPlatform, OptionalText, OptionalTitleId, OptionalYear, how_many
from streamlens.release_cache import ReleaseCache
from streamlens.schemas import SimilarTitles
from streamlens.layout import SIMILAR_BUNDLE

PATH = "/similar"
NEIGHBOURS = ReleaseCache({"titles": (SIMILAR_BUNDLE, similar.SimilarTitles.from_bytes)})
router = APIRouter(tags=["recommender"])
HowMany = how_many(similar.MAX_N, similar.DEFAULT_N)


@router.get(PATH, response_model=SimilarTitles, response_model_exclude_none=True,
            responses=error_responses(400, 404, 422, 503),
            dependencies=[Depends(reject_unknown("title", "title_id", "n", "platform", "year"))],
            summary="Titles similar to a title",
            description="The n (default 5) titles whose content (description, genres, director, cast, country) "
                        "is most similar, best first, optionally only those on one platform. The same title on "
                        "two platforms counts once. Give `title` (matched ignoring case and accents; a title "
                        "several entries share means the most rated one unless `year` says otherwise) or "
                        "`title_id`.")
async def similar_titles(
    title: Annotated[OptionalText, Query(description="title text (or give title_id)",
                                         examples=["the queen's gambit"])] = None,
    title_id: OptionalTitleId = None,
    n: HowMany = similar.DEFAULT_N,
    platform: OptionalPlatform = None,
    year: Annotated[OptionalYear, Query(description="release year, to pick among entries sharing the title (not "
                                                    "with title_id)")] = None,
) -> dict:
    return similar.similar_titles(await NEIGHBOURS.get_async("titles"), title=title, title_id=title_id, n=n,
                                  platform=platform, year=year)


app = create_app([router], "streamlens: similar")
handler = make_handler(app, query_route(PATH))
