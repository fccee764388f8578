"""The ETL task's event (etl_job.aws_task): what the state machine passes in STREAMLENS_ETL_EVENT is read
strictly, and anything else is refused naming the variable, the key and the value."""

from __future__ import annotations

import pytest

from etl_job.aws_task import EVENT_VARIABLE, event_from_environment
from etl_job.catalog import InputError


@pytest.mark.parametrize("text", [None, "", "  ", "{}"])
def test_no_event_is_every_default(monkeypatch, text):
    if text is None:
        monkeypatch.delenv(EVENT_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(EVENT_VARIABLE, text)
    assert event_from_environment() == {}


def test_the_options_and_the_triggers_own_keys_pass_through(monkeypatch):
    event = ('{"trigger": "raw/READY", "skip_training": true, "accept_shrink": false, "data": "s3://b/raw", '
             '"ratings_stage": "stage/run-1/"}')
    monkeypatch.setenv(EVENT_VARIABLE, event)
    assert event_from_environment() == {"trigger": "raw/READY", "skip_training": True, "accept_shrink": False,
                                        "data": "s3://b/raw", "ratings_stage": "stage/run-1/"}


@pytest.mark.parametrize(("text", "message"), [
    ("{skip_training: true}", "is not JSON (Expecting property name enclosed in double quotes at character 1)"),
    ("[true]", "must be a JSON object, not list"),
    ('{"skip_training": "false"}', "skip_training must be true or false, not 'false'"),
    ('{"accept_shrink": 1}', "accept_shrink must be true or false, not 1"),
    ('{"data": "/tmp/raw"}', "data must be an s3:// prefix, not '/tmp/raw'"),
    ('{"ratings_stage": "s3://b/stage/x/"}', "ratings_stage must be a key prefix of the bucket"),
    ('{"ratings_stage": "/"}', "ratings_stage must be a key prefix of the bucket"),
    ('{"ratings_stage": 3}', "not 3"),
])
def test_an_event_that_cannot_be_trusted_is_refused_naming_what_is_wrong(monkeypatch, text, message):
    monkeypatch.setenv(EVENT_VARIABLE, text)
    with pytest.raises(InputError) as raised:
        event_from_environment()
    assert EVENT_VARIABLE in str(raised.value) and message in str(raised.value)
