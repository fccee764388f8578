"""The reports of a release (data reports, the model report, quality.json, the rejects CSVs) as the reports
function serves them: every object of the manifest under layout.REPORTS_PREFIX, named without it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import NotFound
from .layout import REPORTS_PREFIX

UNKNOWN_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class Report:
    name: str                  # as listed: data_streaming.html
    object_name: str           # in the release: reports/data_streaming.html
    content_type: str
    size: int


def reports(manifest: dict[str, Any]) -> dict[str, Report]:
    """The release's reports by name, A-Z."""
    return {name.removeprefix(REPORTS_PREFIX): Report(name.removeprefix(REPORTS_PREFIX), name,
                                                      info.get("content_type", UNKNOWN_TYPE), info["size"])
            for name, info in sorted(manifest["objects"].items()) if name.startswith(REPORTS_PREFIX)}


def report_list(manifest: dict[str, Any]) -> dict[str, Any]:
    """GET /reports: the release id and each report's name, type, size and path."""
    return {"release_id": manifest["release_id"],
            "reports": [{"name": r.name, "content_type": r.content_type, "size": r.size, "path": f"/reports/{r.name}"}
                        for r in reports(manifest).values()]}


def find_report(manifest: dict[str, Any], name: str) -> Report:
    """GET /reports/{name}: the report of that name, or a 404 listing the names there are."""
    found = reports(manifest)
    if name not in found:
        raise NotFound(f"no report {name!r} in the live release", parameter="name", valid_values=sorted(found))
    return found[name]
