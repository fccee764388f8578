"""The stack synthesised once for the infra tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
from aws_cdk.assertions import Template


@pytest.fixture(scope="session")
def synthesized():
    """The stack synthesised once; synth builds any layer that is missing or stale (infra/layer_assets.py)."""
    from infra.app import build

    app, stack = build({"stage": "dev"})
    assembly = app.synth()
    return stack, Template.from_stack(stack), Path(assembly.directory) / f"{stack.stack_name}.template.json"


