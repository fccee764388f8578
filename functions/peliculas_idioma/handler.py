"""Lambda: GET /movies/language, the number of movies in an original language."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from streamlens import movie_queries
from streamlens.api import create_app, error_responses, make_handler, query_route, reject_unknown
from streamlens.params import Text
from streamlens.release_cache import ReleaseCache
from streamlens.schemas import LanguageCount
from streamlens.layout import slice_object_name

PATH = "/movies/language"
SLICE = ReleaseCache.json_object("slice", slice_object_name("peliculas_idioma"))
router = APIRouter(tags=["movies catalog"])


@router.get(PATH, response_model=LanguageCount, response_model_by_alias=True,
            responses=error_responses(400, 404, 422, 503),
            dependencies=[Depends(reject_unknown("idioma"))],
            summary="The number of movies in an original language",
            description="The number of movies in an original language. "
                        "Names match ignoring case and accents; one that matches nothing is a 404 "
                        "that suggests the closest names.")
async def peliculas_idioma(
    idioma: Annotated[Text, Query(description="original language code, as written in the data", examples=["en"])],
) -> dict:
    return movie_queries.peliculas_idioma(await SLICE.get_async("slice"), idioma)


app = create_app([router], "streamlens: peliculas_idioma")
handler = make_handler(app, query_route(PATH))
