"""Response bodies, as documented in the OpenAPI document. The examples are real
answers on the real catalogs (scores and predictions from the ratings the ETL
generates with seed 42, as README shows)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from .params import (
    JSON_NUMBER,
    MATURITY_PATTERN,
    MAX_YEAR,
    MIN_YEAR,
    PLATFORM_PATTERN,
    TYPE_PATTERN,
    check_maturity,
    check_platform,
    check_type,
)


class Schema(BaseModel):
    """A response model, its validator and serializer built on first use: a function answers with two or three
    of these, and building all of them at import cost every cold start. (The bodies, RatedTitle and
    VisitorRatings, are built at once: FastAPI warns when a body's model is built late.)"""
    model_config = ConfigDict(defer_build=True)


def _example(**values) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [values]})


class ErrorDetail(Schema):
    status: int
    type: str
    message: str
    parameter: str | None = Field(None, description="the parameter at fault, when one is")
    valid_values: Any = Field(None, description="what the parameter accepts")
    suggestions: list[Any] | None = Field(None, description="the closest existing names (not found)")
    problems: list[dict[str, Any]] | None = Field(None, description="every validation problem (422)")


class ErrorBody(Schema):
    model_config = _example(error={"status": 400, "type": "bad_parameter", "parameter": "platform",
                                   "message": "unknown platform 'xbox'; valid values: a, d, h, n, amazon, disney, "
                                              "hulu, netflix (any case)",
                                   "valid_values": ["a", "d", "h", "n", "amazon", "disney", "hulu", "netflix"]})
    error: ErrorDetail


class MaxDuration(Schema):
    model_config = _example(title="unbreakable kimmy schmidt: kimmy vs. the reverend", id="ns2544",
                            platform="netflix", release_year=2020, duration_int=190, duration_type="min")
    title: str
    id: str
    platform: str
    release_year: int
    duration_int: int
    duration_type: str


class ScoreCount(Schema):
    model_config = _example(platform="netflix", scored=3.5, year=2020, count=190)
    platform: str
    scored: float
    year: int
    count: int


class CountPlatform(Schema):
    model_config = _example(platform="netflix", count=6131)
    platform: str
    count: int


class Actor(Schema):
    model_config = _example(platform="netflix", year=2020, actor="blossom chukwujekwu", appearances=6,
                            ties=["keith wickham"])
    platform: str
    year: int | None
    actor: str
    appearances: int
    ties: list[str] = Field(description="other actors with the same number of appearances, A-Z")


class Prediction(Schema):
    model_config = _example(user_id=42, title_id="ns1", title="dick johnson is dead", platform="netflix",
                            predicted_rating=3.5995, threshold=3.5, recommend=False, rank_on_platform=5674,
                            already_rated=False, cold_start=False)
    user_id: int
    title_id: str
    title: str
    display_title: str | None = Field(None, description="the title as the catalog writes it")
    platform: str
    predicted_rating: float = Field(description="the SVD's predicted rating (0.5..5)")
    threshold: float = Field(description="the rating that counts as liked (STREAMLENS_RECOMMEND_THRESHOLD)")
    recommend: bool = Field(description="true when the title is in the user's top 100 among the unrated titles of "
                                        "its platform, by the ranking model: the same ranking as the top-n routes")
    rank_on_platform: int | None = Field(None, description="1-based place in that ranking (none if already rated)")
    already_rated: bool = False
    cold_start: bool = Field(description="true when the user has no ratings: the prediction is the title's mean")


class TitleRef(Schema):
    title_id: str
    title: str
    display_title: str | None = Field(None, description="the title as the catalog writes it")
    platform: str


class RecommendedTitle(Schema):
    title_id: str
    title: str
    display_title: str | None = Field(None, description="the title as the catalog writes it")
    platform: str
    type: str
    release_year: int
    score: float | None = Field(None, description="ranking score (personal lists) or mean rating (cold start)")
    rating_count: int | None = None
    because_you_rated: TitleRef | None = Field(None, description="the user's rated title that contributed most")


class Recommendations(Schema):
    user_id: int | None = None
    platform: str | None = Field(None, description="the platform the ranking is restricted to, if any")
    type: str | None = None
    max_maturity: str | None = None
    year_min: int | None = None
    year_max: int | None = None
    n: int
    rated: int | None = Field(None, description="how many ratings were folded in (POST /recommendations)")
    cold_start: bool
    message: str | None = None
    items: list[RecommendedTitle]


class RatedTitle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title_id: str = Field(min_length=1, max_length=40, examples=["ns1"])
    rating: Annotated[float, Field(ge=0.5, le=5.0, multiple_of=0.5, description="0.5 to 5 in half stars",
                                   examples=[5]), JSON_NUMBER]


class VisitorRatings(BaseModel):
    """A visitor's ratings, folded into the model at once; nothing is stored."""
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"ratings": [{"title_id": "ns1", "rating": 5}, {"title_id": "ds5", "rating": 4}], "n": 10,
         "platform": "n"}]})
    ratings: list[RatedTitle] = Field(min_length=1, max_length=500)
    # numbers are JSON numbers (10 or 10.0, never "10" or true), platform, type and max_maturity exactly their
    # documented values in any case (no padding), as in the query parameters
    n: Annotated[int, Field(10, ge=1, le=100), JSON_NUMBER]
    platform: Annotated[str | None, Field(None, json_schema_extra={"pattern": PLATFORM_PATTERN}), check_platform]
    type: Annotated[str | None, Field(None, json_schema_extra={"pattern": TYPE_PATTERN}), check_type]
    max_maturity: Annotated[str | None, Field(None, json_schema_extra={"pattern": MATURITY_PATTERN}), check_maturity]
    year_min: Annotated[int | None, Field(None, ge=MIN_YEAR, le=MAX_YEAR), JSON_NUMBER]
    year_max: Annotated[int | None, Field(None, ge=MIN_YEAR, le=MAX_YEAR), JSON_NUMBER]


class LanguageCount(Schema):
    model_config = _example(idioma="en", count=4154, message="4154 películas fueron estrenadas en idioma en")
    idioma: str
    count: int
    message: str


class MovieRuntime(Schema):
    title: str
    runtime: float | None
    release_year: int
    id: int


class Runtimes(Schema):
    model_config = _example(pelicula="toy story", movies=[{"title": "Toy Story", "runtime": 81.0,
                                                           "release_year": 1995, "id": 862}],
                            message="Toy Story. Duración: 81 minutos. Año: 1995")
    pelicula: str
    movies: list[MovieRuntime]
    message: str


class Franchise(Schema):
    model_config = _example(name="Toy Story Collection", count=2, total_revenue=870920902.0,
                            average_revenue=435460451.0,
                            message="La franquicia Toy Story Collection posee 2 películas, una ganancia total de "
                                    "870,920,902 y una ganancia promedio de 435,460,451")
    name: str
    count: int
    total_revenue: float
    average_revenue: float
    message: str


class CountryCount(Schema):
    name: str
    count: int
    message: str


class CompanyRevenue(Schema):
    name: str
    count: int
    revenue: float
    message: str


class DirectorMovie(Schema):
    title: str
    release_date: str
    model_config = ConfigDict(populate_by_name=True)
    return_: float = Field(alias="return", serialization_alias="return")
    budget: float
    revenue: float


class Director(Schema):
    name: str
    total_return: float = Field(description="sum of the return (revenue / budget) of the director's movies")
    movies: list[DirectorMovie]
    message: str


class SimilarTitle(Schema):
    id: str
    title: str
    display_title: str | None = Field(None, description="the title as the catalog writes it (streaming catalog)")
    release_year: int
    platform: str | None = None
    similarity: float | None = Field(None, description="content similarity to the asked title, 0..1: the weighted "
                                                       "mean of the per-field cosines")


class MovieRecommendations(Schema):
    model_config = _example(
        titulo="toy story", movie={"id": "862", "title": "Toy Story", "release_year": 1995},
        recommendations=["Toy Story 2", "The Wrong Trousers", "A Close Shave", "Oliver & Company", "Meet the Deedles"],
        similar=[{"id": "863", "title": "Toy Story 2", "release_year": 1999, "similarity": 0.589}],
        other_matches=[], message="Películas similares a Toy Story (1995): Toy Story 2, The Wrong Trousers, "
                                  "A Close Shave, Oliver & Company, Meet the Deedles")
    titulo: str
    movie: SimilarTitle = Field(description="the movie the title was resolved to (the most voted one)")
    recommendations: list[str] = Field(description="titles of the most similar movies, best first")
    similar: list[SimilarTitle]
    other_matches: list[SimilarTitle] = Field(description="other movies with the same title (narrow with year)")
    message: str


class SimilarTitles(Schema):
    model_config = _example(
        source={"id": "ds5", "title": "the beatles: get back", "release_year": 2021, "platform": "disney"},
        platform="netflix", n=1, other_matches=[],
        similar=[{"id": "ns7013", "title": "how the beatles changed the world", "release_year": 2017,
                  "platform": "netflix", "similarity": 0.223}])
    source: SimilarTitle = Field(description="the title the request was resolved to (the most rated one)")
    platform: str | None = Field(None, description="the platform the answer is restricted to, if any")
    n: int
    similar: list[SimilarTitle]
    other_matches: list[SimilarTitle] = Field(description="other entries with the same title (narrow with year, "
                                                          "or ask by title_id)")


class ReportInfo(Schema):
    name: str
    content_type: str
    size: int = Field(description="bytes")
    path: str = Field(description="where to read it: GET this path")


class ReportList(Schema):
    release_id: str
    reports: list[ReportInfo]


class Listing(Schema):
    id: str
    platform: str


class TitleSummary(Schema):
    id: str
    title: str
    display_title: str = Field(description="the title as the catalog writes it (`title` is its lowercase)")
    platform: str
    type: str
    release_year: int
    score: float | None = Field(description="mean rating, null when unrated")
    rating_count: int
    available_on: list[Listing] = Field(description="every platform this work (the same title, type and year) "
                                                    "is on, with its id there, most rated first")


class TitleSearch(Schema):
    model_config = _example(q="queen", platform="netflix", type=None, year_min=None, year_max=None, total=1,
                            offset=0, items=[
        {"id": "ns1805", "title": "the queen's gambit", "display_title": "The Queen's Gambit",
         "platform": "netflix", "type": "tv show", "release_year": 2020, "score": 3.6, "rating_count": 12,
         "available_on": [{"id": "ns1805", "platform": "netflix"}]}])
    q: str
    platform: str | None
    type: str | None = None
    year_min: int | None = None
    year_max: int | None = None
    total: int = Field(description="how many works match (a work is listed once, whatever its platforms)")
    offset: int = Field(description="how many matching works were skipped (paging: offset + limit)")
    items: list[TitleSummary]
    suggestions: list[str] | None = Field(None, description="the closest titles, when nothing matches q")


class TitleDetails(TitleSummary):
    duration_int: int | None
    duration_type: str | None
    rating: str | None
    listed_in: str | None
    director: str | None
    cast: str | None
    country: str | None
    display_listed_in: str | None
    display_director: str | None
    display_cast: str | None
    display_country: str | None
    display_description: str | None
    date_added: str | None
    description: str | None


class PlatformInfo(Schema):
    code: str
    name: str
    titles: int


class YearRange(Schema):
    min: int
    max: int


class MovieExamples(Schema):
    """Each a value its movies route finds: none when the release has no movies catalog."""
    language: str | None = Field(None, description="the original language with the most movies (/movies/language)")
    title: str | None = Field(None, description="the most voted movie (/movies/duration, /movies/recommendation)")
    collection: str | None = Field(None, description="the collection with the most movies (/movies/franchise)")
    country: str | None = Field(None, description="the production country with the most movies (/movies/country)")
    company: str | None = Field(None, description="the production company with the most movies "
                                                 "(/movies/production-company)")
    director: str | None = Field(None, description="the director with the most movies (/movies/director)")


class CatalogFacts(Schema):
    titles: int
    release_years: YearRange
    example_titles: list[str] = Field(description="the most rated titles (works), for placeholders and examples")
    movie_examples: MovieExamples = Field(description="a value each movies query answers on this release, for "
                                                      "placeholders and examples")
    platforms: list[PlatformInfo]
    duration_types: list[str]
