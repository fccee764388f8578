"""A new release never silently loses a catalog the live one serves, and a release that was told to accept
the loss answers a platform with no titles cleanly on every route."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from etl_job.__main__ import main as etl_main
from etl_job.pipeline import EtlOptions, run_etl
from etl_job.progress import Progress
from etl_job.release_guard import REFUSED_RUN, ReleaseRefused
from etl_job.sources import DataSource
from streamlens.combined_app import build_app
from streamlens.release import object_key, read_manifest
from tests.aws import moto_bucket

NETFLIX = "streaming/netflix_titles.csv"


@pytest.fixture
def live(sample_data_dir, tmp_path):
    """A live release of the sample data, and a copy of the data folder to mangle."""
    folder = tmp_path / "data"
    shutil.copytree(sample_data_dir, folder)
    with moto_bucket("streamlens-guard", STREAMLENS_MANIFEST_TTL_SECONDS="0") as (settings, store):
        first = run_etl(DataSource(str(folder)), store, settings, EtlOptions(train=False), Progress())
        yield settings, store, first, folder


def _live_titles(store, settings) -> pd.DataFrame:
    manifest = read_manifest(store, settings)
    return pd.read_parquet(io.BytesIO(store.get(object_key(manifest, "data/titles.parquet"))))


def _keep_netflix_rows(folder, share: float) -> int:
    """Rewrite the Netflix export with its first `share` of rows; returns the rows kept."""
    path = folder / NETFLIX
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    kept = rows[:1 + int((len(rows) - 1) * share)]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(kept)
    return len(kept) - 1


def test_a_header_only_catalog_is_refused_and_the_live_release_stays(live):
    settings, store, first, folder = live
    live_netflix = int((_live_titles(store, settings)["platform"] == "netflix").sum())
    assert live_netflix > 0
    _keep_netflix_rows(folder, 0.0)
    with pytest.raises(ReleaseRefused, match=rf"netflix: {live_netflix:,} titles live, none in the new release"):
        run_etl(DataSource(str(folder)), store, settings, EtlOptions(train=False), Progress())
    assert read_manifest(store, settings)["release_id"] == first["release_id"]
    refusal = json.loads(store.get(settings.prefix + REFUSED_RUN))
    assert refusal["live_counts"]["netflix"] == live_netflix and refusal["new_counts"]["netflix"] == 0
    assert refusal["quality"]["catalogs"]["rows_in"]["netflix"] == 0     # the evidence: the file had no rows


def test_a_shrink_beyond_the_limit_is_refused_and_one_within_it_is_published(live):
    settings, store, first, folder = live
    original = (folder / NETFLIX).read_bytes()
    _keep_netflix_rows(folder, 0.5)
    with pytest.raises(ReleaseRefused, match=r"netflix: .* fewer; the limit is 20%"):
        run_etl(DataSource(str(folder)), store, settings, EtlOptions(train=False), Progress())
    assert read_manifest(store, settings)["release_id"] == first["release_id"]

    (folder / NETFLIX).write_bytes(original)
    _keep_netflix_rows(folder, 0.9)
    second = run_etl(DataSource(str(folder)), store, settings, EtlOptions(train=False), Progress())
    assert read_manifest(store, settings)["release_id"] == second["release_id"]
    assert "accepted_shrink" not in read_manifest(store, settings)


def test_the_cli_refuses_with_exit_2_and_accepts_with_the_flag(live, capsys, monkeypatch):
    settings, store, first, folder = live
    _keep_netflix_rows(folder, 0.0)
    monkeypatch.setattr("etl_job.__main__.ObjectStore.from_settings", lambda s: store)
    assert etl_main(["run", "--data-dir", str(folder), "--skip-training"]) == 2
    assert "--accept-shrink" in capsys.readouterr().err
    assert read_manifest(store, settings)["release_id"] == first["release_id"]
    assert etl_main(["run", "--data-dir", str(folder), "--skip-training", "--accept-shrink"]) == 0
    manifest = read_manifest(store, settings)
    assert manifest["release_id"] != first["release_id"]
    assert manifest["counts"]["catalogs"]["netflix"] == 0
    assert any(p.startswith("netflix:") for p in manifest["accepted_shrink"])


def test_every_route_answers_a_platform_with_no_titles_cleanly(live):
    settings, store, _, folder = live
    _keep_netflix_rows(folder, 0.0)
    run_etl(DataSource(str(folder)), store, settings, EtlOptions(accept_shrink=True), Progress())
    titles = _live_titles(store, settings)
    assert not (titles["platform"] == "netflix").any()
    other = titles[titles["platform"] == "amazon"].iloc[0]
    client = TestClient(build_app(), raise_server_exceptions=False)

    def get(url):
        response = client.get(url)
        assert response.status_code < 500, (url, response.text)
        return response

    assert get("/count-platform?platform=n").json()["count"] == 0
    assert get("/score-count?platform=n&scored=3&year=2020").json()["count"] == 0
    actor = get("/actor?platform=n")
    assert actor.status_code == 404 and "netflix catalog has no titles" in actor.json()["error"]["message"]
    assert "None" not in get("/actor?platform=a").text
    assert get("/max-duration?platform=n").status_code == 404
    similar = get(f"/similar?title_id={other['id']}&platform=n").json()
    assert similar["platform"] == "netflix" and similar["similar"] == []
    assert get(f"/titles?q={other['title'][:4]}&platform=n").json()["items"] == []
    user = int(pd.read_csv(next((folder / "streaming" / "ratings").glob("*.csv")))["userId"].iloc[0])
    top = get(f"/users/{user}/recommendations?platform=n").json()
    assert top["items"] == []
    visitor = client.post("/recommendations", json={"ratings": [{"title_id": other["id"], "rating": 5}],
                                                    "platform": "n"})
    assert visitor.status_code == 200 and visitor.json()["items"] == []
