"""How a warm function follows releases: lazily, at most every TTL, never a mix, never a crash."""

from __future__ import annotations

import contextlib
import json

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from etl_job.pipeline import EtlOptions, run_etl
from etl_job.progress import Progress
from etl_job.sample_data import write_sample_catalogs
from etl_job.sources import DataSource
from streamlens.combined_app import load_handler
from streamlens.errors import Unavailable
from streamlens.release import ReleaseWriter
from streamlens.release_cache import ReleaseCache
from tests.helpers import pair_value, publish_pair, v2_event


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now




def cache(clock) -> ReleaseCache:
    return ReleaseCache({"a": ("slices/x/a.json", pair_value), "b": ("slices/x/b.json", pair_value)}, clock=clock)


def test_nothing_is_read_until_a_request_needs_it(s3_env, monkeypatch):
    settings, store = s3_env
    publish_pair(store, settings, 1, 1)
    calls = []
    monkeypatch.setattr("streamlens.storage.ObjectStore.get", lambda self, key: calls.append(key))
    cache(Clock())
    load_handler("get_actor")
    assert calls == []


def test_manifest_is_rechecked_at_most_every_ttl(s3_env, monkeypatch):
    settings, store = s3_env
    monkeypatch.setenv("STREAMLENS_MANIFEST_TTL_SECONDS", "30")
    clock = Clock()
    first = publish_pair(store, settings, 1, 10)
    view = cache(clock)
    assert (view.get("a"), view.get("b"), view.release_id) == (1, 10, first)
    second = publish_pair(store, settings, 2, 20)
    clock.now = 29.0
    assert (view.get("a"), view.release_id) == (1, first)
    clock.now = 30.0
    assert (view.get("a"), view.get("b"), view.release_id) == (2, 20, second)


def test_build_runs_once_per_release_and_a_failed_build_keeps_the_release(s3_env, monkeypatch, caplog):
    """The build hook (the recommender's arrays into a Recommender) runs in the load, once per release; a
    build that fails is a load that fails: the warm copy stays, a cold cache answers 503."""
    settings, store = s3_env
    monkeypatch.setenv("STREAMLENS_MANIFEST_TTL_SECONDS", "0")
    builds = []

    def build(objects: dict) -> int:
        builds.append(dict(objects))
        if objects["a"] < 0:
            raise ValueError("arrays of the wrong shape")
        return objects["a"] + objects["b"]

    publish_pair(store, settings, 1, 10)
    view = ReleaseCache({"a": ("slices/x/a.json", pair_value), "b": ("slices/x/b.json", pair_value)}, build=build)
    assert [view.built(), view.built(), view.get("a")] == [11, 11, 1] and builds == [{"a": 1, "b": 10}]
    second = publish_pair(store, settings, 2, 20)
    assert view.built() == 22 and len(builds) == 2
    publish_pair(store, settings, -1, 0)
    assert (view.built(), view.release_id) == (22, second)              # and retried at each check (TTL 0)
    assert builds[2:] and all(b == {"a": -1, "b": 0} for b in builds[2:])
    assert any("keeping release" in r.message for r in caplog.records)
    with pytest.raises(Unavailable):
        ReleaseCache({"a": ("slices/x/a.json", pair_value), "b": ("slices/x/b.json", pair_value)}, build=build).built()


def test_reads_on_demand_are_kept_for_their_release_when_asked(s3_env, monkeypatch):
    settings, store = s3_env
    monkeypatch.setenv("STREAMLENS_MANIFEST_TTL_SECONDS", "0")
    publish_pair(store, settings, 1, 10)
    calls = []
    plain_get = store.__class__.get
    monkeypatch.setattr(store.__class__, "get", lambda self, key: calls.append(key) or plain_get(self, key))
    kept, unkept = ReleaseCache({}, keep_reads=1), ReleaseCache({})
    for view in (kept, unkept):
        assert [pair_value(view.read("slices/x/a.json")) for _ in range(2)] == [1, 1]
    reads = [key for key in calls if key.endswith(".json") and "/slices/" in key]
    assert len(reads) == 3                                          # kept: once; not kept: twice
    assert pair_value(kept.read("slices/x/b.json")) == 10 and len(kept.current().kept) == 1    # at most keep_reads
    publish_pair(store, settings, 2, 20)
    assert pair_value(kept.read("slices/x/a.json")) == 2                 # a new release: read again


def s3_fault(kind: str) -> Exception:
    """What boto3 raises when S3 throttles, times out or cannot be reached (after its own retries)."""
    if kind == "throttled":
        return ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}}, "GetObject")
    if kind == "read timeout":
        return ReadTimeoutError(endpoint_url="https://s3.amazonaws.com/streamlens")
    return EndpointConnectionError(endpoint_url="https://s3.amazonaws.com/streamlens")


def failing_get(kind: str):
    def get(*args, **kwargs):
        raise s3_fault(kind)
    return get


S3_FAULTS = ["throttled", "read timeout", "s3 down"]


@pytest.mark.parametrize("fault", ["missing object", "corrupt object", "manifest names no such release",
                                   "manifest unreadable", *S3_FAULTS])
def test_a_warm_function_keeps_its_release_when_the_new_one_is_bad(s3_env, monkeypatch, caplog, fault):
    settings, store = s3_env
    monkeypatch.setenv("STREAMLENS_MANIFEST_TTL_SECONDS", "0")
    good = publish_pair(store, settings, 1, 10)
    view = cache(Clock())
    assert view.get("a") == 1
    bad = publish_pair(store, settings, 2, 20)
    prefix = f"{settings.releases_prefix}{bad}/"
    if fault == "missing object":
        store.client.delete_object(Bucket=store.bucket, Key=prefix + "slices/x/b.json")
    elif fault == "corrupt object":
        store.put(prefix + "slices/x/b.json", b"{not json")
    elif fault == "manifest names no such release":
        store.delete_prefix(prefix)
    elif fault == "manifest unreadable":
        store.put(settings.manifest_key, b"\x00garbage")
    else:
        monkeypatch.setattr(store.__class__, "get_with_etag", failing_get(fault))
    assert (view.get("a"), view.get("b"), view.release_id) == (1, 10, good), "no mix of two releases"
    assert any("keeping release" in r.message for r in caplog.records)


def test_a_cold_function_with_a_bad_release_answers_503(s3_env):
    settings, store = s3_env
    release = publish_pair(store, settings, 1, 1)
    store.put(f"{settings.releases_prefix}{release}/slices/x/a.json", b"{broken")
    with pytest.raises(Unavailable, match="cannot be read"):
        cache(Clock()).get("a")


@pytest.mark.parametrize("fault", S3_FAULTS)
def test_a_cold_handler_answers_503_with_a_clear_message_when_s3_fails(s3_env, monkeypatch, fault):
    settings, store = s3_env
    publish_pair(store, settings, 1, 1)
    monkeypatch.setattr(store.__class__, "get_with_etag", failing_get(fault))
    handler = load_handler("get_count_platform").handler
    response = handler(v2_event("/count-platform", {"platform": "n"}), None)
    body = json.loads(response["body"])
    assert response["statusCode"] == 503 and body["error"]["type"] == "unavailable"
    assert "cannot be read" in body["error"]["message"] and "Traceback" not in response["body"]
    assert handler({"platform": "n"}, None)["error"]["status"] == 503
    for secret in ("amazonaws.com", store.bucket):   # the endpoint and the bucket name stay in the logs
        assert secret not in response["body"], body


@pytest.mark.parametrize("fault", S3_FAULTS)
def test_the_reports_function_answers_503_when_s3_fails_on_an_uncached_report(s3_env, monkeypatch, fault):
    settings, store = s3_env
    writer = ReleaseWriter(store, settings)
    writer.put("reports/model.html", b"<html>model</html>", "text/html")
    writer.publish(inputs={})
    handler = load_handler("reports").handler
    assert handler({}, None)["reports"][0]["name"] == "model.html"      # the manifest is now warm
    monkeypatch.setattr(store.__class__, "get", failing_get(fault))
    response = handler(v2_event("/reports/model.html", {}), None)
    body = json.loads(response["body"])
    assert response["statusCode"] == 503 and body["error"]["type"] == "unavailable", body
    assert "amazonaws.com" not in response["body"] and store.bucket not in response["body"]


def test_a_handler_picks_up_a_new_release_without_restart(s3_env, sample_data_dir, tmp_path, monkeypatch):
    settings, store = s3_env
    monkeypatch.setenv("STREAMLENS_MANIFEST_TTL_SECONDS", "0")
    handler = load_handler("get_count_platform").handler
    run_etl(DataSource(str(sample_data_dir)), store, settings, EtlOptions(train=False), Progress())
    before = handler({"platform": "n"})["count"]
    smaller = tmp_path / "smaller"
    write_sample_catalogs(smaller / "streaming", titles_per_platform=120, seed=3)
    smaller_run = EtlOptions(train=False, sample_ratings=5_000, sample_users=200, accept_shrink=True)   # on purpose
    run_etl(DataSource(str(smaller)), store, settings, smaller_run, Progress())
    after = handler({"platform": "n"})["count"]
    assert after != before and after < before


@pytest.fixture
def frozen_s3():
    """An S3 endpoint that accepts connections and never answers: a hanging S3."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.2)
    held, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


def test_a_warm_function_answers_from_its_copy_when_s3_hangs(s3_env, monkeypatch, frozen_s3):
    """The manifest check after the TTL used to wait 20 s x 4 attempts inside the request."""
    import time

    settings, store = s3_env
    monkeypatch.setenv("STREAMLENS_MANIFEST_TTL_SECONDS", "30")
    clock = Clock()
    release = publish_pair(store, settings, 1, 10)
    view = cache(clock)
    assert view.get("a") == 1
    monkeypatch.setenv("STREAMLENS_S3_ENDPOINT", frozen_s3)      # S3 freezes
    clock.now += 31
    started = time.monotonic()
    assert (view.get("a"), view.release_id) == (1, release)
    assert time.monotonic() - started < 5, "one short attempt, then the warm copy"


def test_a_cold_function_answers_503_well_inside_the_lambda_timeout_when_s3_hangs(s3_env, monkeypatch, frozen_s3):
    import time

    settings, store = s3_env
    publish_pair(store, settings, 1, 10)
    monkeypatch.setenv("STREAMLENS_S3_ENDPOINT", frozen_s3)
    started = time.monotonic()
    with pytest.raises(Unavailable, match="cannot be read"):
        cache(Clock()).get("a")
    assert time.monotonic() - started < 9, "the Lambda's timeout is 10 s"
