"""Lambda: GET /movies/country, the number of movies produced in a country."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from streamlens import movie_queries
from streamlens.api import create_app, error_responses, make_handler, query_route, reject_unknown
from streamlens.params import Text
from streamlens.release_cache import ReleaseCache
from streamlens.schemas import CountryCount
from streamlens.layout import slice_object_name

PATH = "/movies/country"
SLICE = ReleaseCache.json_object("slice", slice_object_name("peliculas_pais"))
router = APIRouter(tags=["movies catalog"])


@router.get(PATH, response_model=CountryCount, response_model_by_alias=True,
            responses=error_responses(400, 404, 422, 503),
            dependencies=[Depends(reject_unknown("pais"))],
            summary="The number of movies produced in a country",
            description="The number of movies produced in a country. "
                        "Names match ignoring case and accents; one that matches nothing is a 404 "
                        "that suggests the closest names.")
async def peliculas_pais(
    pais: Annotated[Text, Query(description="production country, as named in the data", examples=["France"])],
) -> dict:
    return movie_queries.peliculas_pais(await SLICE.get_async("slice"), pais)


app = create_app([router], "streamlens: peliculas_pais")
handler = make_handler(app, query_route(PATH))
