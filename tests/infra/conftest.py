"""The stack synthesised once for the infra tests (the layers it points at are built first, with pip)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
from aws_cdk.assertions import Template

from tests.helpers import REPO


def layers_module():
    spec = importlib.util.spec_from_file_location("streamlens_layers_build", REPO / "layers" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def synthesized():
    """The layers are built first if needed (pip, no Docker): the stack's assets point at them."""
    layers = layers_module()
    if not layers.built():
        for name, requirements in layers.LAYERS.items():
            layers.build_layer(name, requirements)
        layers.build_shared_layer()
    from infra.app import build

    app, stack = build({"stage": "dev"})
    assembly = app.synth()
    return stack, Template.from_stack(stack), Path(assembly.directory) / f"{stack.stack_name}.template.json"


