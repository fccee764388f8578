"""The Spark engine's ratings stages against the pandas engine's, on the same inputs: the generated sample, a
hostile set written here (every reason, repeats across files, wrong field counts, blank lines, a header-only
file, odd ids), the real catalogs with generated ratings; and the whole ETL's query slices with each engine."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from etl_job.__main__ import run_command
from etl_job.catalog import InputError
from etl_job.pipeline import EtlOptions, clean_catalog_files, run_etl
from etl_job.quality import QualityReport
from etl_job.ratings import clean_ratings, read_ratings_csv, title_scores
from etl_job.sample_data import generate_ratings, write_ratings, write_sample_catalogs
from etl_job.slices import build_slices, title_index
from etl_job.sources import CATALOG_DIR, RATINGS_DIR, DataSource
from etl_job.spark.job import build_parser
from etl_job.spark.ratings import validate_with_spark
from streamlens.config import get_settings
from tests.memory_store import MemoryStore

HEADER = "userId,rating,timestamp,movieId"


@pytest.fixture(scope="module", autouse=True)
def few_partitions(spark):
    """Two shuffle partitions for these few thousand rows (a runtime setting: the session is shared)."""
    before = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", "2")
    yield
    spark.conf.set("spark.sql.shuffle.partitions", before)


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("catalogs")
    write_sample_catalogs(folder / CATALOG_DIR, titles_per_platform=60, seed=3)
    return folder


def _titles(folder) -> pd.DataFrame:
    return clean_catalog_files(DataSource(str(folder)), QualityReport("catalogs"))


def _with_ratings(tmp_path, catalog_dir, files: dict[str, str | bytes]):
    """A data folder: the catalogs of catalog_dir and these ratings files (name -> text)."""
    (tmp_path / CATALOG_DIR).mkdir(parents=True)
    for path in (catalog_dir / CATALOG_DIR).iterdir():
        (tmp_path / CATALOG_DIR / path.name).write_bytes(path.read_bytes())
    (tmp_path / RATINGS_DIR).mkdir()
    for name, text in files.items():
        (tmp_path / RATINGS_DIR / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    return DataSource(str(tmp_path))


def _both(spark, source: DataSource, titles: pd.DataFrame):
    """(pandas, spark): each engine's (clean ratings, scores, report)."""
    ids = titles["id"]
    report = QualityReport("ratings")
    clean = clean_ratings((read_ratings_csv(data, name) for name, data in source.iter_ratings()), ids, report)
    expected = (clean, title_scores(clean, ids), report)
    report = QualityReport("ratings")
    got = validate_with_spark(source, None, ids, report, spark=spark)
    return expected, (got.to_pandas(), got.scores, report)


def _assert_same(expected, got) -> None:
    (clean, scores, report), (spark_clean, spark_scores, spark_report) = expected, got
    assert spark_report.to_dict() == report.to_dict()
    pd.testing.assert_frame_equal(spark_report.rejected_rows(), report.rejected_rows())
    assert spark_report.rejects_csv() == report.rejects_csv()
    assert spark_scores["id"].tolist() == scores["id"].tolist()
    assert spark_scores["rating_count"].tolist() == scores["rating_count"].tolist()
    np.testing.assert_allclose(spark_scores["score"], scores["score"], rtol=0, atol=1e-9, equal_nan=True)
    columns = ["user", "item", "rating", "timestamp"]
    pd.testing.assert_frame_equal(spark_clean.sort_values(columns, ignore_index=True),
                                  clean.sort_values(columns, ignore_index=True))


def test_generated_sample_in_two_files(spark, catalog_dir, tmp_path):
    titles = _titles(catalog_dir)
    ratings = generate_ratings(titles, 3_000, 200, seed=5)
    repeats = ratings.sample(150, random_state=1).assign(timestamp=lambda f: f["timestamp"] + 60)
    source = _with_ratings(tmp_path, catalog_dir, {})
    write_ratings(pd.concat([ratings, repeats], ignore_index=True), tmp_path / RATINGS_DIR, rows_per_file=1_600)
    expected, got = _both(spark, source, titles)
    assert len(source.ratings_files()) == 2
    assert sum(per.get("superseded_by_later_rating", 0) for per in expected[2].rejects.values()) >= 140
    _assert_same(expected, got)


def _ids(titles: pd.DataFrame) -> dict[str, list[str]]:
    """Some title ids of each platform, by its letter."""
    return {code: [i for i in titles["id"] if i.startswith(code)][:4] for code in "nadh"}


def _hostile(titles: pd.DataFrame) -> dict[str, str]:
    n, a, d, h = (_ids(titles)[c] for c in "nadh")
    spaces = "   "                                                                  # a line of spaces only
    many = "\n".join(f"5,6,{1_600_000_000 + k},{n[k % 3]}" for k in range(14))   # one user, one reason, 14 rows
    first = f"""{HEADER}
1,4,1600000000,{n[0]}
1,3.5,1600000100,{a[0]}
0,4,1600000000,{n[0]}
-3,4,1600000000,{a[0]}
9223372036854775808,4,1600000000,{d[0]}
1e30,4,1600000000,{h[0]}
 7 ,4.5,1600000000,{n[1]}
2,7,1600000000,{n[0]}
2,,1600000000,{d[1]}
2,4,5,{n[0]}
2,4,1600000000,
2,4,1600000000,zz999
0,9,5,

3,4,1600000000, {n[2].upper()}
1,2

1,2,3,4,5
{many}
{spaces}
2,4,1600000300,{a[1]}
8,2.5,1600000000,{h[1]}
8,2.5,1600000000,{h[1]}
"""
    typed = f"""{HEADER}
1,5,1600000200,{n[0]}
1,4,1600000100,{a[0]}
0,4,1600000000,{n[0]}
4,7,1600000000,{d[0]}
4,4.5,1600000000,{d[0]}
9,1,1600000000,{h[2]}
9,3,1600000000,{h[2]}
"""
    reordered = f"""movieId,extra,userId,timestamp,rating
{d[2]},x,11,1600000000,3
{h[0]},y,12,2000000000000,3
{n[3]},z,11,1600000000,3
"""
    blanks = f"""{HEADER}
21,4,1600000000,{n[1]}
,4,1600000000,{a[1]}
NA,3,1600000000,{d[1]}
22,3.5,,{h[1]}
21,2,1600000050,{n[1]}
"""   # typed, with null tokens: only their rows are rejected, and written as the pandas engine writes them
    return {"a_text.csv": first, "b_typed.csv": typed, "c_header_only.csv": HEADER + "\n",
            "d_reordered.csv": reordered, "e_blanks.csv": blanks}


def test_hostile_ratings(spark, catalog_dir, tmp_path):
    titles = _titles(catalog_dir)
    source = _with_ratings(tmp_path, catalog_dir, _hostile(titles))
    expected, got = _both(spark, source, titles)
    found = {reason for per in expected[2].rejects.values() for reason in per}
    assert found >= {"bad_user_id", "bad_rating", "bad_timestamp", "missing_movie_id", "unknown_title",
                     "superseded_by_later_rating", "wrong_field_count"}
    assert any("; " in reason for reason in expected[2].rejected_rows()["reject_reason"])
    assert (expected[2].rejected_rows()["userId"] == "5").sum() == 10     # the per-user bound was reached
    # Null tokens reject their own rows only (a blank user id used to reject every row of its file).
    blanks = expected[2].rejected_rows().query("source.str.endswith('e_blanks.csv')")
    assert sorted(blanks["reject_reason"]) == ["bad_timestamp", "bad_user_id", "bad_user_id"]
    assert blanks["userId"].isna().sum() == 2 and blanks["userId"].dropna().tolist() == ["22"]
    assert 21 in set(expected[0]["user"]) and 22 not in set(expected[0]["user"])
    _assert_same(expected, got)


def test_refuses_a_file_that_is_not_utf8(spark, catalog_dir, tmp_path):
    titles = _titles(catalog_dir)
    n = _ids(titles)["n"]
    data = f"{HEADER}\n1,4,1600000000,{n[0]}\n".encode() + b"2,4,1600000000,caf\xe9\n"
    source = _with_ratings(tmp_path, catalog_dir, {"a.csv": data})
    where = rf"byte 0xe9 on line 3, at byte offset {data.index(bytes([0xE9]))}"
    with pytest.raises(InputError, match=rf"a\.csv: not UTF-8 text \({where}\).*--engine pandas"):
        validate_with_spark(source, None, titles["id"], QualityReport("ratings"), spark=spark)


@pytest.mark.parametrize(("text", "message"), [
    ("  \n\n", "the file is empty"),
    ("userId,rating,movieId\n1,4,ns1\n", "missing column"),
    (f"{HEADER}\n1,4,1600000000,zz1\n2,4,1600000000,zz2\n", "none of its 2 ratings names a title"),
])
def test_refuses_what_the_pandas_engine_refuses(spark, catalog_dir, tmp_path, text, message):
    titles = _titles(catalog_dir)
    source = _with_ratings(tmp_path, catalog_dir, {"bad.csv": text})
    with pytest.raises(InputError, match=message) as pandas_error:
        clean_ratings((read_ratings_csv(data, name) for name, data in source.iter_ratings()), titles["id"],
                      QualityReport("ratings"))
    with pytest.raises(InputError) as spark_error:
        validate_with_spark(source, None, titles["id"], QualityReport("ratings"), spark=spark)
    assert str(spark_error.value) == str(pandas_error.value)


def _release(data_dir, engine: str) -> dict[str, str | bytes]:
    """A release built by the whole ETL (no training) with this engine: _contents."""
    store = MemoryStore()
    run_etl(DataSource(str(data_dir)), store, get_settings(),
            EtlOptions(train=False, engine=engine, sample_ratings=2_000, sample_users=150))
    return _contents(store)


def _contents(store: MemoryStore) -> dict[str, str | bytes]:
    """Every query slice of the release as canonical JSON, and the ratings' quality report and rejects CSV,
    by their names inside the release."""
    found: dict[str, str | bytes] = {}
    for key, stored in store.objects.items():
        name = key.split("/", 2)[-1]
        if name.startswith("slices/") and name.endswith(".json"):
            found[name] = json.dumps(json.loads(stored.body), sort_keys=True)
        elif name == "reports/quality.json":
            found["ratings quality"] = json.dumps(json.loads(stored.body)["ratings"], sort_keys=True)
        elif name == "reports/rejects_ratings.csv":
            found[name] = stored.body
    return found


@pytest.fixture(scope="module")
def hostile_dir(catalog_dir, tmp_path_factory):
    return _with_ratings(tmp_path_factory.mktemp("hostile"), catalog_dir, _hostile(_titles(catalog_dir))).location


@pytest.fixture(scope="module")
def pandas_release(hostile_dir) -> dict[str, str | bytes]:
    return _release(hostile_dir, "pandas")


@pytest.fixture(scope="module")
def stage_files(hostile_dir, tmp_path_factory, spark) -> dict[str, bytes]:
    """The Spark job's entry point run on the hostile set (the ratings only: a dozen valid ones train nothing
    worth serving; tests/spark/test_staged_models.py stages models): the stage's files, by their keys once EMR
    has left them in the bucket under stage/run-1/."""
    stage_dir = tmp_path_factory.mktemp("stage")
    assert run_command(build_parser(), ["--data-dir", str(hostile_dir), "--stage", str(stage_dir), "--no-train"]) == 0
    return {f"stage/run-1/{path.relative_to(stage_dir).as_posix()}": path.read_bytes()
            for path in sorted(stage_dir.rglob("*")) if path.is_file()}


def test_release_equal_with_each_engine(hostile_dir, pandas_release):
    assert {"slices/get_score_count/slice.json", "slices/titles/slice.json", "ratings quality"} <= pandas_release.keys()
    assert _release(hostile_dir, "spark") == pandas_release


def test_the_task_publishes_from_the_spark_jobs_stage_what_the_pandas_engine_publishes(hostile_dir, stage_files,
                                                                                        pandas_release, catalog_dir):
    """AWS under -c engine=spark: etl_job/spark/job.py stages the ratings, the task (event ratings_stage)
    publishes from the stage without reading a ratings file. The release equals the pandas engine's."""
    assert any(key.endswith(".parquet") and "/ratings/" in key for key in stage_files)
    store, source = MemoryStore.holding(stage_files), DataSource(str(hostile_dir))
    summary = run_etl(source, store, get_settings(), EtlOptions(train=False, ratings_stage="stage/run-1/"))
    assert summary["counts"]["ratings_rejects"] > 0
    assert set(source.checksums) >= {f"{RATINGS_DIR}/{name}" for name in _hostile(_titles(catalog_dir))}
    assert _contents(store) == pandas_release


def test_a_stage_of_another_catalog_or_none_is_refused(hostile_dir, stage_files, tmp_path):
    store = MemoryStore.holding(stage_files)
    write_sample_catalogs(tmp_path / CATALOG_DIR, titles_per_platform=40, seed=9)
    staged = EtlOptions(train=False, ratings_stage="stage/run-1/")
    with pytest.raises(InputError, match="validated against another catalog"):
        run_etl(DataSource(str(tmp_path)), store, get_settings(), staged)
    with pytest.raises(InputError, match=r"no staged ratings at stage/run-2/ratings\.json"):
        run_etl(DataSource(str(hostile_dir)), store, get_settings(), replace(staged, ratings_stage="stage/run-2"))
    assert not any(key.endswith("manifest.json") for key in store.objects)


def test_release_equal_on_generated_ratings(catalog_dir, spark):
    """No ratings folder: both engines validate the same generated ratings."""
    assert _release(catalog_dir, "spark") == _release(catalog_dir, "pandas")


def test_real_catalogs_with_generated_ratings(spark, shared_data, tmp_path):
    titles = _titles(shared_data)
    ratings = generate_ratings(titles, 4_000, 300, seed=11)
    source = _with_ratings(tmp_path, shared_data, {})
    write_ratings(ratings, tmp_path / RATINGS_DIR, rows_per_file=2_500)
    expected, got = _both(spark, source, titles)
    assert expected[2].total_rejected > 0          # the generator's unknown ids
    _assert_same(expected, got)
    # The slices from each engine's scores (the whole ETL on 23k real titles spends minutes in similar titles,
    # which do not depend on the engine: test_release_equal_with_each_engine runs it on the sample).
    canonical = [{query: json.dumps(content, sort_keys=True) for query, content in build_slices(titles, scores).items()}
                 | {"titles": json.dumps(title_index(titles, scores), sort_keys=True)}
                 for scores in (expected[1], got[1])]
    assert canonical[1] == canonical[0]
