"""Lambda: GET /movies/recommendation, the movies most similar in content to a movie (precomputed)."""

from typing import Annotated

from fastapi import Query

from streamlens import similar
from streamlens.params import MovieTitle, OptionalYear, how_many
from streamlens.query_function import QueryFunction
from streamlens.schemas import MovieRecommendations

fn = QueryFunction("recomendacion", tags=["movies catalog"], parse=similar.SimilarTitles.from_bytes)


@fn.get("/movies/recommendation", response_model=MovieRecommendations, response_model_exclude_none=True,
        errors=(404,), summary="The movies most similar to a movie",
        description="The n (default 5) movies whose content (overview, genres, collection, director, main "
                    "cast, title, tagline) is most similar, best first. A title several movies share means "
                    "the most voted one unless `year` says otherwise; the others are listed. Titles match "
                    "ignoring case and accents; one that matches nothing is a 404 with the closest titles.")
async def recomendacion(
    movies: Annotated[similar.SimilarTitles, fn.data],
    titulo: MovieTitle,
    n: Annotated[int, *how_many(similar.MAX_N, similar.DEFAULT_N)] = similar.DEFAULT_N,
    year: Annotated[OptionalYear, Query(description="release year, to pick among movies sharing the title")] = None,
) -> dict:
    return similar.recomendacion(movies, titulo, n=n, year=year)


router, app, handler = fn.router, fn.app, fn.handler
