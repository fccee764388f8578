"""The README's example calls stay true: every `curl` of its "What to try" section, sent to the local app on
the generated sample's release (what `make run` serves on a machine with no data folder), answers as the
README says: 200 with a body, or the status its comment names."""

from __future__ import annotations

import re
import shlex

import pytest
from fastapi.testclient import TestClient

from local_run.app import local_app
from tests.helpers import REPO

LOCAL = "http://127.0.0.1:8000"


def _calls() -> list[tuple[str, str, str | None, int]]:
    """(method, path and query, JSON body, expected status) of each curl in "What to try"."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## What to try"):]
    block = section[section.index("```sh") + 5:section.index("```", section.index("```sh") + 5)]
    calls = []
    for command in re.split(r"\n(?=curl )", block.replace("\\\n", " ").strip()):
        expected = int(m.group(1)) if (m := re.search(r"#\s*an? (\d{3})\b", command)) else 200
        words = shlex.split(command, comments=True)
        url = next(w for w in words if w.startswith(LOCAL))
        body = words[words.index("-d") + 1] if "-d" in words else None
        method = words[words.index("-X") + 1] if "-X" in words else "GET"
        calls.append((method, url.removeprefix(LOCAL), body, expected))
    return calls


def test_the_readme_has_example_calls_of_the_main_routes():
    paths = {path.split("?")[0] for _, path, _, _ in _calls()}
    assert {"/max-duration", "/users/42/recommendations", "/recommend", "/recommendations", "/similar"} <= paths


@pytest.mark.parametrize(("method", "path", "body", "expected"), _calls(), ids=lambda v: str(v)[:60])
def test_each_example_call_answers_on_the_sample(s3_env, full_release, method, path, body, expected):
    _, store = s3_env
    full_release.copy_into(store)
    client = TestClient(local_app())
    response = client.request(method, path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == expected, (path, response.text[:500])
    assert response.json(), path
