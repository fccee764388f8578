"""The layers build themselves during synth (infra/layer_assets.py): a fresh checkout synthesises with the
pinned CDK CLI and no Docker, and a built layer is reused only while it is what the pins ask for."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra import layer_assets
from tests.helpers import REPO

CLI = REPO / "infra" / "node_modules" / ".bin" / "cdk"


def _unchecked_hash_pyc(source: Path) -> None:
    """A pyc header for Python 3.12 with the hash-based, unchecked flag (PEP 552); the code object is not read."""
    cache = source.parent / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / f"{source.stem}.cpython-312.pyc").write_bytes(b"\xcb\x0d\x0d\x0a" + (1).to_bytes(4, "little") + bytes(8))


def test_a_pip_layer_is_current_only_with_every_pinned_package_and_its_bytecode(tmp_path):
    build = layer_assets.layers_build()
    requirements = build.LAYERS["api"]
    assert not layer_assets.is_current("api", tmp_path)
    site = tmp_path / "api" / "python"
    for requirement in requirements:           # fastapi-offline==1.7.7 -> fastapi_offline-1.7.7.dist-info
        name, version = requirement.split("==")
        (site / f"{name.replace('-', '_')}-{version}.dist-info").mkdir(parents=True)
    (site / "fastapi").mkdir()
    (site / "fastapi" / "__init__.py").write_text("")
    assert not layer_assets.is_current("api", tmp_path), "no bytecode: built before layers shipped it"
    _unchecked_hash_pyc(site / "fastapi" / "__init__.py")
    assert layer_assets.is_current("api", tmp_path)
    shutil.rmtree(next(site.glob("fastapi-*.dist-info")))
    (site / "fastapi-0.1.0.dist-info").mkdir()          # another version of a pinned package: stale
    assert not layer_assets.is_current("api", tmp_path)


def test_the_kernel_layer_is_current_only_with_the_same_sources(tmp_path):
    target = tmp_path / "streamlens" / "python" / "streamlens"
    shutil.copytree(REPO / "streamlens", target, ignore=shutil.ignore_patterns("__pycache__"))
    _unchecked_hash_pyc(target / "config.py")
    assert layer_assets.is_current("streamlens", tmp_path)
    (target / "config.py").write_text((target / "config.py").read_text() + "\n# edited\n")
    assert not layer_assets.is_current("streamlens", tmp_path)


def test_the_asset_hash_follows_the_pins_and_nothing_else(monkeypatch):
    build = layer_assets.layers_build()
    before = {name: layer_assets.fingerprint(name) for name in [*build.LAYERS, build.SHARED_LAYER]}
    assert before == {name: layer_assets.fingerprint(name) for name in before}
    assert len(set(before.values())) == len(before)
    monkeypatch.setitem(build.LAYERS, "numpy", ["numpy==1.0.0"])
    assert layer_assets.fingerprint("numpy") != before["numpy"]
    assert layer_assets.fingerprint("api") == before["api"]


def _fresh_checkout(target: Path) -> Path:
    """The tracked files as they are in the working tree, without layers/build/, cdk.out or node_modules."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    assert not (target / "layers" / "build").exists()
    return target


def test_cdk_synth_works_from_a_fresh_checkout_without_docker(tmp_path):
    if not CLI.exists():
        pytest.skip("the pinned CDK CLI is not installed: run `make synth` (npm ci in infra/) first")
    checkout = _fresh_checkout(tmp_path / "checkout")
    out = tmp_path / "cdk.out"
    # CDK_DOCKER points at a command that always fails: synth must never need Docker.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "CDK_DOCKER": "/bin/false"}
    result = subprocess.run([str(CLI), "synth", "--quiet", "--no-notices", "-o", str(out)], cwd=checkout, env=env,
                            capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "streamlens-dev.template.json").exists()
    staged = [p for p in out.glob("asset.*") if (p / "python").is_dir()]
    packages = {p.name.split("-")[0] for asset in staged for p in (asset / "python").glob("*.dist-info")}
    assert {"fastapi", "mangum", "numpy"} <= packages
    assert any((asset / "python" / "streamlens" / "config.py").exists() for asset in staged)
