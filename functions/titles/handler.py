"""Lambda: GET /titles (title search, for autocomplete), GET /titles/{title_id} (a title's details with its
score and rating count) and GET /catalog (platforms and years, for input validation), over the title index
of the live release."""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query

from streamlens.api import create_app, error_responses, make_handler, reject_unknown
from streamlens.errors import BadParameter
from streamlens.params import OptionalPlatform, Text, TitleIdPath, how_many
from streamlens.release_cache import ReleaseCache
from streamlens.schemas import CatalogFacts, TitleDetails, TitleSearch
from streamlens.layout import slice_object_name
from streamlens.titles import MAX_LIMIT, TitleIndex

INDEX = ReleaseCache({"index": (slice_object_name("titles"), TitleIndex.from_bytes)})
router = APIRouter(tags=["streaming catalog"])
Limit = how_many(MAX_LIMIT, 10)


@router.get("/titles", response_model=TitleSearch, responses=error_responses(400, 422, 503),
            dependencies=[Depends(reject_unknown("q", "limit", "platform"))], summary="Search titles",
            description="Titles whose name contains `q`, ignoring case and accents: the whole title first, then "
                        "titles starting with it, then a word starting with it, then anywhere; the most rated "
                        "first within each. For autocomplete.")
async def search_titles(q: Annotated[Text, Query(description="some letters of a title", examples=["queen"])],
                        limit: Limit = 10, platform: OptionalPlatform = None) -> dict:
    return (await INDEX.get_async("index")).search(q, limit, platform)


@router.get("/titles/{title_id}", response_model=TitleDetails, responses=error_responses(404, 503),
            dependencies=[Depends(reject_unknown())], summary="A title's details, score and rating count")
async def title_details(title_id: TitleIdPath) -> dict:
    return (await INDEX.get_async("index")).details(title_id)


@router.get("/catalog", response_model=CatalogFacts, responses=error_responses(503),
            dependencies=[Depends(reject_unknown())], summary="Platforms and release years of the catalog",
            description="What a client needs to validate input before asking: the platforms present (codes and "
                        "names), the range of release years and the duration types.")
async def catalog() -> dict:
    return (await INDEX.get_async("index")).catalog


def route(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Direct invocation: {"title_id"} gives a title's details; {"q", "limit"?, "platform"?} searches;
    {"catalog": true} gives the catalog facts."""
    params = dict(params)
    if params.pop("catalog", False):
        return "/catalog", params
    if "title_id" in params:
        title_id = str(params.pop("title_id"))
        if not title_id.strip():
            raise BadParameter("title_id", "title_id is empty", "a title id: platform letter + show_id, e.g. 'ns1'")
        return f"/titles/{quote(title_id, safe='')}", params
    if "q" not in params:
        raise BadParameter("q", "q or title_id is required", "q (some letters of a title) or title_id")
    return "/titles", params


app = create_app([router], "streamlens: titles")
handler = make_handler(app, route)
