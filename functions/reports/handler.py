"""Lambda: GET /reports and GET /reports/{name}, the release's reports (data
reports, quality report and rejects), served from S3 through the API.

Served by a function rather than presigned S3 redirects: the reports stay on
the API's own origin (a page opens the same locally and deployed, and the
bucket stays private with no signed URLs to expire), and each is under
Lambda's 6 MB response limit (the rejects CSVs are bounded to fit: etl_job.quality).
"""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi.responses import Response

from streamlens import reports
from streamlens.errors import BadParameter
from streamlens.params import ReportName
from streamlens.query_function import QueryFunction
from streamlens.release_cache import Loaded
from streamlens.schemas import ReportList

fn = QueryFunction("reports", tags=["reports"], keep_reads=16)        # the last 16 reports served, kept
Release = Annotated[Loaded, fn.release]


@fn.get("/reports", response_model=ReportList, summary="The reports of the live release")
async def list_reports(release: Release) -> dict:
    return reports.report_list(release.manifest)


@fn.get("/reports/{name}", response_class=Response, errors=(404,), summary="One report of the live release",
        responses={200: {"description": "the report, as stored",
                         "content": {"text/html": {}, "application/json": {}, "text/csv": {}}}},
        description="HTML data reports open in a browser; quality.json and the rejects CSVs download.")
async def get_report(release: Release, name: ReportName) -> Response:
    report = reports.find_report(release.manifest, name)
    return Response(await fn.read(report.object_name), media_type=report.content_type)


@fn.direct
def direct_invocation(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Direct invocation: {} lists the reports; {"name": ...} returns one."""
    params = dict(params)
    name = params.pop("name", None)
    if name is None:
        return "/reports", params
    if not str(name).strip():
        raise BadParameter("name", "name is empty", "a report name, as listed by GET /reports (e.g. model.html)")
    return f"/reports/{quote(str(name), safe='')}", params


router, app, handler = fn.router, fn.app, fn.handler
