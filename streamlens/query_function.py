"""One Lambda function, declared once: its name (the folder functions/<name>/, and the objects
layout.READS grants it), its routes, its FastAPI app and its Lambda handler. A handler reads:

    fn = QueryFunction("get_actor", tags=["streaming catalog"])

    @fn.get("/actor", response_model=Actor, errors=(404,), summary="Most frequent actor", description="...")
    async def get_actor(slice: Annotated[dict, fn.data], platform: Platform, year: OptionalYear = None) -> dict:
        return queries.get_actor(slice, platform=platform, year=year)

    router, app, handler = fn.router, fn.app, fn.handler

The endpoint keeps its own typed signature (the parameters of streamlens.params); the function does the rest:

- its objects: those layout.READS names for it, loaded from the live release by one ReleaseCache (once per
  release, S3 work off the event loop), each parsed with `parse` (JSON by default); with `build`, what the
  endpoint gets is build({object name: parsed object}), made once per release (the recommender's arrays
  into a Recommender). The endpoint asks for it with the dependency `fn.data`, or for the live release
  itself (its id and manifest) with `fn.release`; `await fn.read(name)` reads an object on demand (kept for
  the release with `keep_reads`). Neither dependency is in the OpenAPI document, and both are resolved
  only once the request's own parameters are valid: a refused request reads nothing from S3, and a bad
  parameter is a 400 or 422 even when no release can be read.
- the unknown-parameter check: a query parameter the endpoint's signature does not declare, or one given
  twice, is a 400 listing those it does, and any value over 500 characters a 400 (api.reject_unknown);
  a POST's body over 64 KB is a 413 (api.limit_body).
- the error statuses the OpenAPI document lists: `errors` (400, 422 and 503 always; 413 for a POST).
- `app`, the function's own FastAPI app ("streamlens: <name>"), and `handler`, its Lambda entry
  (streamlens.lambda_entry): a direct invocation goes to the one GET route, or where the function's
  `@fn.direct` mapping sends it.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable
from enum import Enum
from functools import cached_property
from typing import Annotated, Any, get_args, get_origin

from fastapi import APIRouter, Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant

from .api import create_app, error_responses, limit_body, reject_unknown
from .lambda_entry import DirectInvocation, direct_invocation_to, lambda_handler
from .layout import READS, loaded_objects, may_read
from .release_cache import Loaded, Parser, ReleaseCache

Endpoint = Callable[..., Any]


class QueryFunction:
    def __init__(self, name: str, *, tags: list[str | Enum] | None = None, errors: Iterable[int] = (), note: str = "",
                 parse: Parser = json.loads, build: Callable[[dict[str, Any]], Any] | None = None,
                 keep_reads: int = 0, app: FastAPI | None = None) -> None:
        """name: the function's folder and its entry in layout.READS; errors: statuses all its routes may
        answer besides 400, 422 and 503; note: a sentence every route's description ends with (a route with
        no description: its summary); app: an app of its own instead of one made of its routes (the docs
        function serves the combined app)."""
        if name not in READS:
            raise ValueError(f"{name!r} is not a function of streamlens.layout.READS")
        self.name = name
        self.objects = loaded_objects(name)
        if build is None and len(self.objects) > 1:
            raise ValueError(f"{name} loads {len(self.objects)} objects: say what to build of them (build=)")
        self.cache = ReleaseCache({o: (o, parse) for o in self.objects}, build=build or self._only_object,
                                  keep_reads=keep_reads)
        self.router = APIRouter(tags=tags)
        self.errors = tuple(errors)
        self.note = note
        self.data = Depends(self._data)             # the function's object of the live release
        self.release = Depends(self._release)       # the live release (id, manifest)
        self._own_app = app
        self._routes: list[tuple[str, str]] = []
        self._direct: DirectInvocation | None = None

    # -- what the endpoints get ------------------------------------------------------------------------------
    def _only_object(self, objects: dict[str, Any]) -> Any:
        return objects[self.objects[0]] if self.objects else None

    async def _data(self) -> Any:
        return await self.cache.built_async()

    async def _release(self) -> Loaded:
        return await self.cache.current_async()

    async def read(self, object_name: str) -> bytes:
        """An object of the live release, read on demand (a 503 when it cannot be read)."""
        if not may_read(self.name, object_name):
            raise PermissionError(f"{self.name} is not granted {object_name} (streamlens.layout.READS)")
        return await self.cache.read_async(object_name)

    # -- routes ----------------------------------------------------------------------------------------------
    def get(self, path: str, *, errors: Iterable[int] = (), **options: Any) -> Callable[[Endpoint], Endpoint]:
        """@fn.get(path, response_model=..., errors=(404,), summary=..., ...): the options of FastAPI's."""
        return self._route("GET", path, tuple(errors), options)

    def post(self, path: str, *, errors: Iterable[int] = (), **options: Any) -> Callable[[Endpoint], Endpoint]:
        """A POST route whose JSON body is refused over api.MAX_BODY_BYTES (413) before it is parsed."""
        return self._route("POST", path, (*errors, 413), options, Depends(limit_body))

    def _route(self, method: str, path: str, errors: tuple[int, ...], options: dict[str, Any],
               *checks: Any) -> Callable[[Endpoint], Endpoint]:
        if "app" in self.__dict__:
            raise RuntimeError(f"{self.name}: a route declared after the app was made would not be served")

        def register(endpoint: Endpoint) -> Endpoint:
            signature = inspect.signature(endpoint, eval_str=True)
            given = {p.name: dependency for p in signature.parameters.values()
                     if (dependency := self._given(p)) is not None}

            # FastAPI validates the request against the endpoint's own parameters, the given ones left out...
            async def request(**values: Any) -> dict[str, Any]:
                return values

            # ...and only then are the release's objects asked for
            async def arguments(values: dict[str, Any]) -> dict[str, Any]:
                return {**values, **{name: await dependency() for name, dependency in given.items()}}

            async def route(arguments: dict[str, Any]) -> Any:
                return await endpoint(**arguments)

            _signed(request, [p for p in signature.parameters.values() if p.name not in given])
            _signed(arguments, [_depends_on("values", request)])
            _signed(route, [_depends_on("arguments", arguments)], signature.return_annotation)
            for attribute in ("__name__", "__qualname__", "__doc__", "__module__"):   # operationId, description
                setattr(route, attribute, getattr(endpoint, attribute))

            known = _query_parameters(get_dependant(path=path, call=request))
            responses = {**options.pop("responses", {}), **error_responses(*self.errors, *errors)}
            if self.note:
                options["description"] = f"{options.get('description') or options['summary'] + '.'} {self.note}"
            self.router.add_api_route(path, route, methods=[method], responses=responses,
                                      dependencies=[Depends(reject_unknown(*known)), *checks], **options)
            self._routes.append((method, path))
            return endpoint

        return register

    def _given(self, parameter: inspect.Parameter) -> Callable[[], Any] | None:
        """The function's dependency a parameter asks for (fn.data or fn.release), if it asks for one."""
        marks = [*(get_args(parameter.annotation)[1:] if get_origin(parameter.annotation) is Annotated else ()),
                 parameter.default]
        return next((mark.dependency for mark in marks if mark is self.data or mark is self.release), None)

    # -- direct invocations, the app and the Lambda entry ----------------------------------------------------
    def direct(self, mapping: DirectInvocation) -> DirectInvocation:
        """@fn.direct: where a direct invocation goes, for a function with more than one route:
        mapping(params) -> (path, query params) or (path, query params, JSON body)."""
        self._direct = mapping
        return mapping

    @cached_property
    def app(self) -> FastAPI:
        return self._own_app or create_app([self.router], f"streamlens: {self.name}")

    @cached_property
    def handler(self) -> Callable[[Any, Any], dict[str, Any]]:
        if self._direct is None:
            if len(self._routes) != 1 or self._routes[0][0] != "GET":
                raise TypeError(f"{self.name} has {len(self._routes)} routes: say where a direct invocation goes "
                                "(@fn.direct)")
            self._direct = direct_invocation_to(self._routes[0][1])
        return lambda_handler(self.app, self._direct)


def _signed(call: Callable[..., Any], parameters: list[inspect.Parameter],
            returns: Any = inspect.Signature.empty) -> None:
    """The signature FastAPI reads for `call` (annotations as objects: this module's are strings)."""
    call.__signature__ = inspect.Signature(parameters, return_annotation=returns)  # type: ignore[attr-defined]


def _depends_on(name: str, dependency: Callable[..., Any]) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                             annotation=Annotated[dict[str, Any], Depends(dependency)])


def _query_parameters(dependant: Dependant) -> list[str]:
    """The query parameters FastAPI reads for a call, its dependencies' included."""
    names = [field.alias for field in dependant.query_params]
    return [*names, *(name for sub in dependant.dependencies for name in _query_parameters(sub))]
