"""The layer build takes its versions from the requirements files: each package a layer installs is pinned
once, in requirements.txt or a file it includes, so the Lambdas run what the tests ran."""

from __future__ import annotations

import importlib.util
import py_compile
import subprocess
import sys

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
    top.write_text("-r etl.txt\nfastapi==1.0  # the API\nmangum>=0.1\nfastapi_offline==1.7.7\nrapidfuzz==3.0\n")
    with pytest.raises(ValueError, match="mangum must be pinned"):
        build.layer_requirements(top)
    top.write_text("-r etl.txt\nfastapi==1.0\nmangum==0.2\nFastAPI-Offline==1.7.7\nrapidfuzz==3.0\nnumpy==2.1\n")
    with pytest.raises(ValueError, match=r"numpy must be pinned .*\['2.0.0', '2.1'\]"):
        build.layer_requirements(top)
    top.write_text("-r etl.txt\nfastapi==1.0 ; python_version >= '3.11'\nmangum==0.2\nfastapi_offline==1.7.7\n"
                   "RapidFuzz==3.0\n")
    assert build.layer_requirements(top) == {"api": ["fastapi==1.0", "mangum==0.2", "fastapi-offline==1.7.7",
                                                     "rapidfuzz==3.0"],
                                             "numpy": ["numpy==2.0.0"]}


@pytest.fixture(scope="module")
def built_layers(build):
    """The layers as `make layers` builds them (built here if missing or without bytecode, as conftest does)."""
    if not build.built():
        for name, requirements in build.LAYERS.items():
            build.build_layer(name, requirements)
        build.build_shared_layer()
    return build


PYTHON_312_MAGIC = (3531).to_bytes(2, "little") + b"\r\n"


@pytest.mark.parametrize("layer, package", [("api", "fastapi"), ("api", "pydantic"), ("api", "starlette"),
                                            ("api", "mangum"), ("api", "rapidfuzz"), ("numpy", "numpy"),
                                            ("streamlens", "streamlens")])
def test_the_layers_ship_unchecked_hash_bytecode_for_python_312(built_layers, layer, package):
    """/opt is read-only in Lambda: without these every cold start compiles FastAPI and pydantic again."""
    pycache = built_layers.layer_path(layer) / "python" / package / "__pycache__"
    pycs = sorted(pycache.glob("*.cpython-312.pyc"))
    assert pycache / "__init__.cpython-312.pyc" in pycs
    for pyc in pycs:
        header = pyc.read_bytes()[:16]
        assert header[:4] == PYTHON_312_MAGIC, f"{pyc.name}: not Python 3.12's magic number"
        assert int.from_bytes(header[4:8], "little") == 0b01, f"{pyc.name}: not an unchecked-hash pyc"


def test_the_api_layer_ships_rapidfuzz_compiled_for_lambdas_python(built_layers):
    """Without its C extension for CPython 3.12 on x86_64, rapidfuzz would not import in the Lambda."""
    package = built_layers.layer_path("api") / "python" / "rapidfuzz"
    compiled = list(package.rglob("*.cpython-312-x86_64-linux-gnu.so"))
    assert compiled, "no rapidfuzz extension built for cpython-312 x86_64"


def test_every_source_of_every_layer_has_its_bytecode_and_the_size_check_passes(built_layers):
    for name in [*built_layers.LAYERS, built_layers.SHARED_LAYER]:
        sources, compiled = built_layers.bytecode_status(built_layers.layer_path(name) / "python")
        assert sources and compiled == sources, f"layer {name}: {compiled} of {sources} sources compiled"
    result = subprocess.run([sys.executable, str(REPO / "layers" / "build.py"), "--check"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OVER THE LIMIT" not in result.stdout
    assert result.stdout.count("bytecode complete") == len(built_layers.LAYERS) + 1, result.stdout


def test_bytecode_status_counts_only_unchecked_hash_pycs_of_the_tag(build, tmp_path):
    """A timestamp pyc is stale once the zip changes the sources' mtimes; a checked-hash one costs a hash per
    import. Neither counts."""
    tag = sys.implementation.cache_tag
    for name, mode in (("unchecked", py_compile.PycInvalidationMode.UNCHECKED_HASH),
                       ("checked", py_compile.PycInvalidationMode.CHECKED_HASH),
                       ("timestamp", py_compile.PycInvalidationMode.TIMESTAMP)):
        (tmp_path / f"{name}.py").write_text("x = 1\n")
        py_compile.compile(str(tmp_path / f"{name}.py"), invalidation_mode=mode)
    (tmp_path / "none.py").write_text("x = 1\n")
    assert build.bytecode_status(tmp_path, tag) == (4, 1)
    assert build.bytecode_status(tmp_path, "cpython-399") == (4, 0)
