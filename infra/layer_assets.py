"""The Lambda layers as assets that build themselves during synth, without Docker.

`cdk synth` (or `cdk deploy`) straight from a fresh checkout has no
`layers/build/`: each layer asset is bundled locally (CDK's ILocalBundling) by
`layers/build.py`, the same pip build `make layers` runs, so no Docker image is
ever pulled. A layer already built and current (its bytecode there, and every
pinned package's dist-info present, or the kernel's sources identical) is copied as it is; one
that is missing or stale is rebuilt first. The asset hash is the layer's
requirements (or the kernel's sources) and the build script, so a change of
pin or code makes a new layer version, and nothing else does.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as _lambda
from filelock import FileLock

REPO = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = REPO / "layers" / "build.py"
# Required by CDK's bundling options; never pulled, since the local build always answers.
UNUSED_DOCKER_IMAGE = "public.ecr.aws/sam/build-python3.12"


@cache
def layers_build() -> ModuleType:
    """layers/build.py, a script beside the packages rather than one of them."""
    spec = importlib.util.spec_from_file_location("streamlens_layers_build", BUILD_SCRIPT)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {BUILD_SCRIPT}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kernel_sources() -> dict[str, bytes]:
    source = REPO / "streamlens"
    return {str(p.relative_to(source)): p.read_bytes() for p in sorted(source.rglob("*.py"))}


def _built_kernel(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.py"))} if folder.is_dir() \
        else {}


def _dist_info_name(requirement: str) -> str:
    """fastapi-offline==1.7.7 -> fastapi_offline-1.7.7.dist-info (the wheel's metadata folder, PEP 427)."""
    name, version = requirement.split("==")
    return f"{name.replace('-', '_').lower()}-{version}.dist-info"


def is_current(name: str, build_dir: Path) -> bool:
    """Is the built layer at build_dir/<name> what the pins (or the kernel's sources) ask for?"""
    build = layers_build()
    target = build_dir / name / "python"
    if not target.is_dir() or not build.bytecode_status(target)[1]:      # built before layers shipped bytecode
        return False
    if name == build.SHARED_LAYER:
        return _built_kernel(target / "streamlens") == _kernel_sources()
    present = {p.name.lower() for p in target.glob("*.dist-info")}
    return all(_dist_info_name(r) in present for r in build.LAYERS[name])


def fingerprint(name: str) -> str:
    build = layers_build()
    digest = hashlib.sha256(BUILD_SCRIPT.read_bytes())
    if name == build.SHARED_LAYER:
        for path, body in _kernel_sources().items():
            digest.update(path.encode() + b"\0" + body)
    else:
        digest.update("\n".join(build.LAYERS[name]).encode())
    return digest.hexdigest()


@jsii.implements(ILocalBundling)
class LocalLayerBuild:
    """Bundles one layer on this machine: builds it into layers/build/ when missing or stale, then copies it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: Any) -> bool:
        build = layers_build()
        build.BUILD.mkdir(parents=True, exist_ok=True)
        # Two synths at once (the test workers, two terminals) build a missing layer once and never copy one
        # that the other is replacing.
        with FileLock(build.BUILD / f".{self.name}.lock"):
            if not is_current(self.name, build.BUILD):
                print(f"building the {self.name} layer (layers/build.py)", flush=True)
                if self.name == build.SHARED_LAYER:
                    build.build_shared_layer()
                else:
                    build.build_layer(self.name, build.LAYERS[self.name])
            shutil.copytree(build.layer_path(self.name), output_dir, dirs_exist_ok=True)
        return True


def layer_code(name: str) -> _lambda.Code:
    return _lambda.Code.from_asset(
        str(BUILD_SCRIPT.parent), asset_hash_type=AssetHashType.CUSTOM, asset_hash=fingerprint(name),
        bundling=BundlingOptions(image=DockerImage.from_registry(UNUSED_DOCKER_IMAGE), local=LocalLayerBuild(name)))
