"""Response bodies, as documented in the OpenAPI document. The examples are real
answers on the real catalogs (scores and predictions from the ratings the ETL
generates with seed 42, as README shows)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


def _example(**values) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [values]})


class MaxDuration(BaseModel):
    model_config = _example(title="unbreakable kimmy schmidt: kimmy vs. the reverend", id="ns2544",
                            platform="netflix", release_year=2020, duration_int=190, duration_type="min")
    title: str
    id: str
    platform: str
    release_year: int
    duration_int: int
    duration_type: str


class ScoreCount(BaseModel):
    model_config = _example(platform="netflix", scored=3.5, year=2020, count=190)
    platform: str
    scored: float
    year: int
    count: int


class CountPlatform(BaseModel):
    model_config = _example(platform="netflix", count=6131)
    platform: str
    count: int


class Actor(BaseModel):
    model_config = _example(platform="netflix", year=2020, actor="blossom chukwujekwu", appearances=6,
                            ties=["keith wickham"])
    platform: str
    year: int | None
    actor: str
    appearances: int
    ties: list[str] = Field(description="other actors with the same number of appearances, A-Z")


class Prediction(BaseModel):
    model_config = _example(user_id=42, title_id="ns2544", title="unbreakable kimmy schmidt: kimmy vs. the reverend",
                            platform="netflix", predicted_rating=3.87, threshold=3.5, recommend=True,
                            cold_start=False)
    user_id: int
    title_id: str
    title: str
    platform: str
    predicted_rating: float
    threshold: float
    recommend: bool
    cold_start: bool = Field(description="true when the user has no ratings: the prediction is the title's mean")


class RecommendedTitle(BaseModel):
    title_id: str
    title: str
    platform: str
    predicted_rating: float | None = None
    score: float | None = Field(None, description="mean rating (cold-start answers)")
    rating_count: int | None = None


class Recommendations(BaseModel):
    user_id: int
    platform: str | None
    n: int
    cold_start: bool
    message: str | None = None
    items: list[RecommendedTitle]
