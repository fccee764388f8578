"""The layer build takes its versions from the requirements files: each package a layer installs is pinned
once, in requirements.txt or a file it includes, so the Lambdas run what the tests ran."""

from __future__ import annotations

import importlib.util

import pytest

from tests.helpers import REPO


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("streamlens_layers_build_pins", REPO / "layers" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_package_a_layer_installs_is_pinned_once_in_a_requirements_file(build):
    pins = build.read_pins()
    for layer, packages in build.LAYER_PACKAGES.items():
        for package in packages:
            found = [(version, path.name) for name, version, path in pins if name == build.normalized(package)]
            assert len(found) == 1 and found[0][0], f"layer {layer}: {package} is pinned {found or 'nowhere'}"
            assert build.LAYERS[layer][packages.index(package)] == f"{package}=={found[0][0]}"


def test_no_package_is_pinned_twice_across_the_requirements_files(build):
    names = [name for name, _, _ in build.read_pins()]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
    files = {path.relative_to(REPO).as_posix() for _, _, path in build.read_pins()}
    assert files == {"requirements.txt", "etl_job/requirements.txt"}, "requirements.txt includes the ETL's"


def test_the_layers_build_refuses_a_package_pinned_twice_or_not_at_all(build, tmp_path):
    (tmp_path / "etl.txt").write_text("numpy==2.0.0\n")
    top = tmp_path / "requirements.txt"
    top.write_text("-r etl.txt\nfastapi==1.0  # the API\nmangum>=0.1\nfastapi_offline==1.7.7\n")
    with pytest.raises(ValueError, match="mangum must be pinned"):
        build.layer_requirements(top)
    top.write_text("-r etl.txt\nfastapi==1.0\nmangum==0.2\nFastAPI-Offline==1.7.7\nnumpy==2.1\n")
    with pytest.raises(ValueError, match=r"numpy must be pinned .*\['2.0.0', '2.1'\]"):
        build.layer_requirements(top)
    top.write_text("-r etl.txt\nfastapi==1.0 ; python_version >= '3.11'\nmangum==0.2\nfastapi_offline==1.7.7\n")
    assert build.layer_requirements(top) == {"api": ["fastapi==1.0", "mangum==0.2", "fastapi-offline==1.7.7"],
                                             "numpy": ["numpy==2.0.0"]}
