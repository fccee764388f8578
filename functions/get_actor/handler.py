"""Lambda: GET /actor, the actor in most titles of a platform and release year."""

from typing import Annotated

from streamlens import queries
from streamlens.params import OptionalYear, Platform
from streamlens.query_function import QueryFunction
from streamlens.schemas import Actor

fn = QueryFunction("get_actor", tags=["streaming catalog"])


@fn.get("/actor", response_model=Actor, errors=(404,), summary="Most frequent actor",
        description="The actor appearing in the most titles of the platform released in `year` (all years "
                    "when omitted); others with the same count are listed in `ties`. Ties: name A-Z. "
                    "A platform whose catalog has no cast data answers 404.")
async def get_actor(slice: Annotated[dict, fn.data], platform: Platform, year: OptionalYear = None) -> dict:
    return queries.get_actor(slice, platform=platform, year=year)


router, app, handler = fn.router, fn.app, fn.handler
