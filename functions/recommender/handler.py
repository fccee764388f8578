"""Lambda: the recommender. GET /recommend (should this user watch this title?) and
GET /users/{user_id}/recommendations (top-n unrated titles), from numpy factors."""

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query

from streamlens.api import create_app, error_responses, make_handler, reject_unknown
from streamlens.config import get_settings
from streamlens.errors import BadParameter
from streamlens.recommend import Recommender
from streamlens.release_cache import ReleaseCache
from streamlens.schemas import Prediction, Recommendations
from streamlens.slices import RECOMMENDER_BUNDLE, RECOMMENDER_MODEL

MODEL = ReleaseCache({"model": (RECOMMENDER_MODEL, bytes), "bundle": (RECOMMENDER_BUNDLE, bytes)})
_recommenders: dict[str, Recommender] = {}
router = APIRouter(tags=["recommender"])
USER_ID = "the user's numeric id (userId in the ratings: a positive integer)"
MAX_USER_ID = 2**63 - 1


def recommender() -> Recommender:
    """The Recommender of the live release, built once per release."""
    loaded = MODEL.current()
    if loaded.release_id not in _recommenders:
        _recommenders.clear()
        _recommenders[loaded.release_id] = Recommender.from_bytes(loaded.objects["model"], loaded.objects["bundle"])
    return _recommenders[loaded.release_id]


@router.get("/recommend", response_model=Prediction, responses=error_responses(404, 422, 503),
            dependencies=[Depends(reject_unknown("user_id", "title_id"))],
            summary="Should this user watch this title?",
            description="The predicted rating and `recommend: true` when it reaches the threshold "
                        "(STREAMLENS_RECOMMEND_THRESHOLD, default 3.5). An unknown user gets the title's "
                        "model mean (`cold_start: true`); an unknown title is a 404.")
async def recommend(user_id: int = Query(..., ge=1, le=MAX_USER_ID, description=USER_ID, examples=[42]),
              title_id: str = Query(..., description="title id: platform letter + show_id", examples=["ns1"])) -> dict:
    return recommender().predict(user_id, title_id, get_settings().recommend_threshold)


@router.get("/users/{user_id}/recommendations", response_model=Recommendations, response_model_exclude_none=True,
            responses=error_responses(400, 422, 503), dependencies=[Depends(reject_unknown("n", "platform"))],
            summary="Top-n titles for a user",
            description="The n titles with the highest predicted rating that the user has not rated, optionally "
                        "on one platform. Ties: title id A-Z. An unknown user gets the best-scored titles with "
                        "enough ratings, flagged `cold_start: true`.")
async def recommendations(user_id: int = Path(..., ge=1, le=MAX_USER_ID, description=USER_ID, examples=[42]),
                    n: int = Query(10, ge=1, le=100, description="how many titles (1-100)"),
                    platform: str | None = Query(None, description="a, d, h, n or amazon, disney, hulu, netflix",
                                                 examples=["n"])) -> dict:
    return recommender().top_n(user_id, n, platform)


def route(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Direct invocation: {"user_id", "title_id"} predicts; {"user_id", "n"?, "platform"?} ranks."""
    params = dict(params)
    if "title_id" in params:
        return "/recommend", params
    if "user_id" not in params:
        raise BadParameter("user_id", "user_id is required", "an integer, with title_id to predict, "
                                                            "or with optional n and platform to rank")
    return f"/users/{quote(str(params.pop('user_id')), safe='')}/recommendations", params


app = create_app([router], "streamlens: recommender")
handler = make_handler(app, route)
