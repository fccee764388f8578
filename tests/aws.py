"""A moto S3 with a bucket, and the environment that points streamlens at it."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from moto import mock_aws


@contextmanager
def moto_bucket(bucket: str, **env: str):
    base = {"STREAMLENS_S3_ENDPOINT": "", "STREAMLENS_BUCKET": bucket, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("AWS_PROFILE", raising=False)
        for name, value in {**base, **env}.items():
            mp.setenv(name, value)
        with mock_aws():
            from streamlens.config import get_settings
            from streamlens.storage import ObjectStore

            settings = get_settings()
            store = ObjectStore.from_settings(settings)
            store.ensure_bucket()
            yield settings, store
