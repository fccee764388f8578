"""Lambda: GET /titles (title search, for autocomplete), GET /titles/{title_id} (a title's details with its
score and rating count) and GET /catalog (platforms and years, for input validation), over the title index
of the live release."""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Query

from streamlens.errors import BadParameter
from streamlens.params import Offset, OptionalPlatform, Text, TitleIdPath, TitleType, YearBound, how_many
from streamlens.query_function import QueryFunction
from streamlens.schemas import CatalogFacts, TitleDetails, TitleSearch
from streamlens.titles import MAX_LIMIT, TitleIndex

fn = QueryFunction("titles", tags=["streaming catalog"], parse=TitleIndex.from_bytes)
Index = Annotated[TitleIndex, fn.data]


@fn.get("/titles", response_model=TitleSearch, summary="Search titles",
        description="Works whose title contains `q`, ignoring case and accents: the whole title first, then "
                    "titles starting with it, then a word starting with it, then anywhere; the most rated "
                    "first within each. A work (the same title, type and year) is listed once, with every "
                    "platform it is on (`available_on`). Filters: platform, type, release years; paging: "
                    "`offset` and `limit` over `total`. Nothing matching: `items` is empty and `suggestions` "
                    "holds the closest titles. For autocomplete and the results list.")
async def search_titles(index: Index, q: Annotated[Text, Query(description="some letters of a title",
                                                               examples=["queen"])],
                        limit: Annotated[int, *how_many(MAX_LIMIT, 10)] = 10,
                        offset: Offset = 0,
                        platform: OptionalPlatform = None, type: TitleType = None,
                        year_min: Annotated[YearBound, Query(description="earliest release year")] = None,
                        year_max: Annotated[YearBound, Query(description="latest release year")] = None) -> dict:
    return index.search(q, limit, platform, type, year_min, year_max, offset)


@fn.get("/titles/{title_id}", response_model=TitleDetails, errors=(404,),
        summary="A title's details, score, rating count and every platform it is on")
async def title_details(index: Index, title_id: TitleIdPath) -> dict:
    return index.details(title_id)


@fn.get("/catalog", response_model=CatalogFacts, summary="Platforms and release years of the catalog",
        description="What a client needs to validate input before asking: the platforms present (codes and "
                    "names), the range of release years and the duration types.")
async def catalog(index: Index) -> dict:
    return index.catalog


def _flag(value: Any) -> bool | None:
    """true/false, as JSON or as a string in any case; None for anything else."""
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(value.lower()) if isinstance(value, str) else None


@fn.direct
def direct_invocation(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Direct invocation: {"title_id"} gives a title's details; {"q", "limit"?, "offset"?, "platform"?, "type"?,
    "year_min"?, "year_max"?} searches;
    {"catalog": true} gives the catalog facts ("catalog": false, or none, is a search or a title)."""
    params = dict(params)
    flag = params.pop("catalog", False)
    if (catalog := _flag(flag)) is None:
        raise BadParameter("catalog", f"catalog must be true or false, not {flag!r}", [True, False])
    if catalog:
        return "/catalog", params
    if "title_id" in params:
        title_id = str(params.pop("title_id"))
        if not title_id.strip():
            raise BadParameter("title_id", "title_id is empty", "a title id: platform letter + show_id, e.g. 'ns1'")
        return f"/titles/{quote(title_id, safe='')}", params
    if "q" not in params:
        raise BadParameter("q", "q or title_id is required", "q (some letters of a title) or title_id")
    return "/titles", params


router, app, handler = fn.router, fn.app, fn.handler
