"""The local run's S3 endpoint, which its types say may be None (an empty STREAMLENS_S3_ENDPOINT: boto3's
default, the AWS account's S3). mypy found the local run passing it on as if it were a URL: the embedded S3
was started on no address and the release written through boto3's default endpoint."""

import pytest

import local_run.__main__ as local_run_main
from etl_job.catalog import InputError
from local_run.s3 import start_local_s3
from streamlens.storage import ObjectStore


def _must_not_run(*args, **kwargs):
    raise AssertionError("the local run went on with no S3 endpoint")


def test_an_empty_endpoint_is_refused_before_any_s3_is_started_or_used(monkeypatch, capsys):
    monkeypatch.setenv("STREAMLENS_S3_ENDPOINT", "")
    monkeypatch.setattr(local_run_main, "start_local_s3", _must_not_run)
    monkeypatch.setattr(ObjectStore, "from_settings", _must_not_run)
    assert local_run_main.main(["--no-serve"]) == 2
    assert "STREAMLENS_S3_ENDPOINT" in capsys.readouterr().err


@pytest.mark.parametrize("endpoint", ["127.0.0.1:5050", "http://127.0.0.1", "http://:5050"])
def test_an_endpoint_without_a_host_and_a_port_starts_no_server(endpoint):
    with pytest.raises(InputError, match="host and a port"):
        start_local_s3(endpoint)
