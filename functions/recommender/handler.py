"""Lambda: the recommender. GET /recommend (should this user watch this title?),
GET /users/{user_id}/recommendations (top-n unrated titles) and POST /recommendations
(top-n for a visitor's ratings), from numpy arrays."""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Query

from streamlens.config import get_settings
from streamlens.errors import BadParameter
from streamlens.layout import RECOMMENDER_BUNDLE, RECOMMENDER_MODEL
from streamlens.params import MaxMaturity, OptionalPlatform, TitleId, TitleType, UserId, UserIdPath, YearBound, how_many
from streamlens.query_function import QueryFunction
from streamlens.recommend import Filters, Recommender
from streamlens.schemas import Prediction, Recommendations, VisitorRatings

fn = QueryFunction("recommender", tags=["recommender"], parse=bytes,      # built once per release
                   build=lambda arrays: Recommender.from_bytes(arrays[RECOMMENDER_MODEL], arrays[RECOMMENDER_BUNDLE]))
Live = Annotated[Recommender, fn.data]
# the two rankings' answer
TOP_N: dict[str, Any] = {"response_model": Recommendations, "response_model_exclude_none": True}


@fn.get("/recommend", response_model=Prediction, errors=(404,), summary="Should this user watch this title?",
        description="The SVD's predicted rating, and `recommend: true` when the ranking model puts the "
                    "title in the user's top 100 among the unrated titles of its platform (so every title "
                    "of a top-n on one platform or all is recommended). An unknown user gets the title's "
                    "model mean and the cold-start ranking (`cold_start: true`); an unknown title is a 404.")
async def recommend(recommender: Live, user_id: UserId, title_id: TitleId) -> dict:
    return recommender.predict(user_id, title_id, get_settings().recommend_threshold)


async def filters(platform: OptionalPlatform = None, type: TitleType = None, max_maturity: MaxMaturity = None,
                  year_min: Annotated[YearBound, Query(description="earliest release year")] = None,
                  year_max: Annotated[YearBound, Query(description="latest release year")] = None) -> Filters:
    return Filters.parse(platform, type, max_maturity, year_min, year_max)


@fn.get("/users/{user_id}/recommendations", **TOP_N, summary="Top-n titles for a user",
        description="The n titles the ranking model puts first among those the user has not rated, each with "
                    "the rated title that contributed most (`because_you_rated`); optionally only one platform, "
                    "one type, up to a maturity family, within release years. Ties: title id A-Z. An unknown "
                    "user gets the best-scored titles with enough ratings, flagged `cold_start: true`.")
async def recommendations(recommender: Live, user_id: UserIdPath, n: Annotated[int, *how_many(100, 10)] = 10, *,
                          chosen: Annotated[Filters, Depends(filters)]) -> dict:
    return recommender.top_n(user_id, n, chosen)


@fn.post("/recommendations", **TOP_N, summary="Top-n titles for a visitor's ratings, at once",
         description="A new or anonymous visitor sends a few rated titles (1 to 500, ratings 0.5-5 in half "
                     "stars) and gets the top-n at once: the ratings are folded into the model (the user's "
                     "factors solved against the item factors), nothing is stored. The same filters as the "
                     "user route. An unknown or repeated title id is a 400 naming it.")
async def visitor_recommendations(recommender: Live, body: VisitorRatings) -> dict:
    chosen = Filters.parse(body.platform, body.type, body.max_maturity, body.year_min, body.year_max)
    return recommender.for_ratings([(r.title_id, r.rating) for r in body.ratings], body.n, chosen)


@fn.direct
def direct_invocation(params: dict[str, Any]) -> tuple:
    """Direct invocation: {"user_id", "title_id"} predicts; {"user_id", "n"?, filters?} ranks;
    {"ratings": [...], "n"?, filters?} ranks for a visitor."""
    params = dict(params)
    if "ratings" in params:
        return "/recommendations", {}, params
    if "title_id" in params:
        return "/recommend", params
    if "user_id" not in params:
        raise BadParameter("user_id", "user_id is required", "an integer, with title_id to predict, or with "
                                                            "optional n and filters to rank; or ratings")
    return f"/users/{quote(str(params.pop('user_id')), safe='')}/recommendations", params


router, app, handler = fn.router, fn.app, fn.handler
