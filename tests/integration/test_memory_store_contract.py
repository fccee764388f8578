"""One set of assertions run against tests/memory_store.py's MemoryStore and against ObjectStore on moto, so that
the unit tests' stand-in cannot drift from S3's behaviour."""

from __future__ import annotations

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from streamlens.storage import DeleteFailed, ObjectInfo, ObjectNotFound, PreconditionFailed
from tests.aws import moto_bucket
from tests.memory_store import MemoryStore


@pytest.fixture(params=["memory", "moto"])
def store(request):
    if request.param == "memory":
        yield MemoryStore()
    else:
        with moto_bucket("contract") as (_, s3):
            yield s3


def test_a_missing_key_is_object_not_found(store):
    with pytest.raises(ObjectNotFound):
        store.get("nothing/here")
    with pytest.raises(ObjectNotFound):
        store.get_with_etag("nothing/here")


def test_put_then_get_returns_the_bytes_and_put_returns_their_length(store):
    assert store.put("a/b.json", b'{"x": 1}', "application/json") == 8
    assert store.get("a/b.json") == b'{"x": 1}'
    assert store.put("a/b.json", b"", "application/json") == 0
    assert store.get("a/b.json") == b""


def test_an_etag_is_quoted_and_changes_when_the_body_changes(store):
    store.put("k", b"one")
    body, first = store.get_with_etag("k")
    store.put("k", b"two")
    second = store.get_with_etag("k")[1]
    assert body == b"one" and first != second
    assert all(tag.startswith('"') and tag.endswith('"') and len(tag) > 2 for tag in (first, second))


def test_put_if_absent_writes_a_new_key_once(store):
    etag = store.put_if("locks/etl.json", b"mine", absent=True)
    assert store.get_with_etag("locks/etl.json") == (b"mine", etag)
    with pytest.raises(PreconditionFailed):
        store.put_if("locks/etl.json", b"theirs", absent=True)
    assert store.get("locks/etl.json") == b"mine"


def test_put_if_etag_writes_only_over_that_version(store):
    old = store.put_if("k", b"v1", absent=True)
    new = store.put_if("k", b"v2", etag=old)
    assert new != old and store.get_with_etag("k") == (b"v2", new)
    with pytest.raises(PreconditionFailed):
        store.put_if("k", b"v3", etag=old)
    store.put("k", b"v4")                     # an unconditional write also invalidates the ETag read before
    with pytest.raises(PreconditionFailed):
        store.put_if("k", b"v5", etag=new)
    assert store.get("k") == b"v4"


def test_put_if_etag_on_a_missing_key_is_no_such_key_not_a_precondition(store):
    with pytest.raises(ClientError) as caught:
        store.put_if("gone", b"v", etag='"0123456789abcdef0123456789abcdef"')
    assert not isinstance(caught.value, PreconditionFailed)
    assert caught.value.response["Error"]["Code"] == "NoSuchKey"
    with pytest.raises(ObjectNotFound):
        store.get("gone")


def test_put_if_without_a_condition_is_refused_and_writes_nothing(store):
    with pytest.raises((ValueError, BotoCoreError)):
        store.put_if("k", b"v")
    with pytest.raises(ObjectNotFound):
        store.get("k")


def test_delete_removes_a_key_and_a_missing_key_is_no_error(store):
    store.put("k", b"v")
    store.delete("k")
    store.delete("k")
    with pytest.raises(ObjectNotFound):
        store.get("k")


KEYS = {"d/x/1": b"1", "d/y/2": b"22", "d/y/3/4": b"333", "d/z": b"4444", "dd/q": b"5", "e": b"", "d/é": b"6",
        "d/Z": b"7"}


@pytest.fixture
def filled(store):
    for key, body in KEYS.items():
        store.put(key, body)
    return store


def test_list_yields_every_key_under_the_prefix_with_its_size_in_key_order(filled):
    under_d = sorted(k for k in KEYS if k.startswith("d"))        # Python's str order is UTF-8 byte order
    assert list(filled.list("d")) == [ObjectInfo(k, len(KEYS[k])) for k in under_d]
    assert [o.key for o in filled.list("d/")] == [k for k in under_d if k.startswith("d/")]
    assert [o.key for o in filled.list("")] == sorted(KEYS)
    assert list(filled.list("nothing/")) == []


def test_list_dirs_returns_the_immediate_sub_prefixes(filled):
    assert filled.list_dirs("d/") == ["d/x/", "d/y/"]
    assert filled.list_dirs("") == ["d/", "dd/"]
    assert filled.list_dirs("d") == ["d/", "dd/"]
    assert filled.list_dirs("d/y") == ["d/y/"]
    assert filled.list_dirs("d/y/") == ["d/y/3/"]
    assert filled.list_dirs("nothing/") == []


def test_delete_prefix_deletes_exactly_the_keys_under_it_and_counts_them(filled):
    assert filled.delete_prefix("d/") == 6
    assert [o.key for o in filled.list("")] == ["dd/q", "e"]
    assert filled.delete_prefix("d/") == 0


def test_ensure_bucket_is_idempotent_and_keeps_the_objects(filled):
    filled.ensure_bucket()
    filled.ensure_bucket()
    assert filled.get("d/z") == b"4444"


def test_a_batch_delete_that_s3_partly_refuses_fails_naming_the_key(monkeypatch):
    """S3's quiet DeleteObjects answers 200 and lists only the keys it refused: they must not pass as deleted."""
    with moto_bucket("refused-deletes") as (_, store):
        for key in ("d/a", "d/b"):
            store.put(key, b"x")
        refused = {"Errors": [{"Key": "d/b", "Code": "AccessDenied", "Message": "Access Denied"}]}
        monkeypatch.setattr(store.client, "delete_objects", lambda **kwargs: refused)
        with pytest.raises(DeleteFailed, match=r"1 of 2 objects under d/: d/b \(AccessDenied: Access Denied\)"):
            store.delete_prefix("d/")
