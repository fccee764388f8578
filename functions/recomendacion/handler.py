"""Lambda: GET /movies/recommendation, the movies most similar in content to a movie (precomputed)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from streamlens import similar
from streamlens.api import create_app, error_responses, make_handler, query_route, reject_unknown
from streamlens.params import OptionalYear, Text, how_many
from streamlens.release_cache import ReleaseCache
from streamlens.schemas import MovieRecommendations
from streamlens.layout import MOVIE_SIMILAR_BUNDLE

PATH = "/movies/recommendation"
NEIGHBOURS = ReleaseCache({"movies": (MOVIE_SIMILAR_BUNDLE, similar.SimilarTitles.from_bytes)})
router = APIRouter(tags=["movies catalog"])
HowMany = how_many(similar.MAX_N, similar.DEFAULT_N)


@router.get(PATH, response_model=MovieRecommendations, response_model_exclude_none=True,
            responses=error_responses(400, 404, 422, 503),
            dependencies=[Depends(reject_unknown("titulo", "n", "year"))],
            summary="The movies most similar to a movie",
            description="The n (default 5) movies whose content (overview, genres, collection, director, main "
                        "cast, title, tagline) is most similar, best first. A title several movies share means "
                        "the most voted one unless `year` says otherwise; the others are listed. Titles match "
                        "ignoring case and accents; one that matches nothing is a 404 with the closest titles.")
async def recomendacion(
    titulo: Annotated[Text, Query(description="movie title", examples=["Toy Story"])],
    n: HowMany = similar.DEFAULT_N,
    year: Annotated[OptionalYear, Query(description="release year, to pick among movies sharing the title")] = None,
) -> dict:
    return similar.recomendacion(await NEIGHBOURS.get_async("movies"), titulo, n=n, year=year)


app = create_app([router], "streamlens: recomendacion")
handler = make_handler(app, query_route(PATH))
