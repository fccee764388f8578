"""Lambda: GET /movies/duration, runtime and release year of every movie with that title."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from streamlens import movie_queries
from streamlens.api import create_app, error_responses, make_handler, query_route, reject_unknown
from streamlens.params import OptionalYear, Text
from streamlens.release_cache import ReleaseCache
from streamlens.schemas import Runtimes
from streamlens.layout import slice_object_name

PATH = "/movies/duration"
SLICE = ReleaseCache.json_object("slice", slice_object_name("peliculas_duracion"))
router = APIRouter(tags=["movies catalog"])


@router.get(PATH, response_model=Runtimes, response_model_by_alias=True,
            responses=error_responses(400, 404, 422, 503),
            dependencies=[Depends(reject_unknown("pelicula", "year"))],
            summary="Runtime and release year of every movie with that title",
            description="Runtime and release year of every movie with that title. "
                        "Names match ignoring case and accents; one that matches nothing is a 404 "
                        "that suggests the closest names.")
async def peliculas_duracion(
    pelicula: Annotated[Text, Query(description="movie title", examples=["Toy Story"])],
    year: Annotated[OptionalYear, Query(description="release year, to narrow titles shared by several movies")] = None,
) -> dict:
    return movie_queries.peliculas_duracion(await SLICE.get_async("slice"), pelicula, year=year)


app = create_app([router], "streamlens: peliculas_duracion")
handler = make_handler(app, query_route(PATH))
