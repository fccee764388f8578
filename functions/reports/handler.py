"""Lambda: GET /reports and GET /reports/{name}, the release's reports (data
reports, quality report and rejects), served from S3 through the API.

Served by a function rather than presigned S3 redirects: the reports stay on
the API's own origin (a page opens the same locally and deployed, and the
bucket stays private with no signed URLs to expire), and each is under
Lambda's 6 MB response limit (the rejects CSVs are bounded to fit: etl_job.quality).
"""

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from streamlens.api import create_app, error_responses, make_handler, reject_unknown
from streamlens.errors import BadParameter, NotFound
from streamlens.params import ReportName
from streamlens.release_cache import Loaded, ReleaseCache
from streamlens.schemas import ReportList
from streamlens.layout import REPORTS_PREFIX

RELEASE = ReleaseCache({})
_served: dict[tuple[str, str], bytes] = {}
router = APIRouter(tags=["reports"])


def _reports(loaded: Loaded) -> dict[str, dict]:
    return {name.removeprefix(REPORTS_PREFIX): info for name, info in sorted(loaded.manifest["objects"].items())
            if name.startswith(REPORTS_PREFIX)}


@router.get("/reports", response_model=ReportList, responses=error_responses(503),
            dependencies=[Depends(reject_unknown())], summary="The reports of the live release")
async def list_reports() -> dict:
    loaded = await RELEASE.current_async()
    return {"release_id": loaded.release_id,
            "reports": [{"name": name, "content_type": info.get("content_type", "application/octet-stream"),
                         "size": info["size"], "path": f"/reports/{name}"} for name, info in _reports(loaded).items()]}


@router.get("/reports/{name}", response_class=Response,
            responses={200: {"description": "the report, as stored", "content": {
                "text/html": {}, "application/json": {}, "text/csv": {}}}, **error_responses(404)},
            dependencies=[Depends(reject_unknown())], summary="One report of the live release",
            description="HTML data reports open in a browser; quality.json and the rejects CSVs download.")
async def get_report(name: ReportName) -> Response:
    loaded = await RELEASE.current_async()
    reports = _reports(loaded)
    if name not in reports:
        raise NotFound(f"no report {name!r} in the live release", parameter="name", valid_values=sorted(reports))
    key = (loaded.release_id, name)
    if key not in _served:
        body = await RELEASE.read_async(REPORTS_PREFIX + name)
        if len(_served) > 16:
            _served.clear()
        _served[key] = body
    return Response(_served[key], media_type=reports[name].get("content_type", "application/octet-stream"))


def route(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Direct invocation: {} lists the reports; {"name": ...} returns one."""
    params = dict(params)
    name = params.pop("name", None)
    if name is None:
        return "/reports", params
    if not str(name).strip():
        raise BadParameter("name", "name is empty", "a report name, as listed by GET /reports (e.g. model.html)")
    return f"/reports/{quote(str(name), safe='')}", params


app = create_app([router], "streamlens: reports")
handler = make_handler(app, route)
