"""Build the Lambda layers without Docker, and check every function's size.

    python layers/build.py            # builds into layers/build/<layer>/python
    python layers/build.py --check    # only report sizes of what is built

Dependencies come as manylinux wheels for Python 3.12 on x86_64 (pip with
--platform, --only-binary=:all:, --python-version 3.12, --target), so what is
built on any machine is what the Lambda runtime loads, at the versions that
requirements.txt (and the files it includes) pins: the versions are read from
there, never written here. Each function gets only
the layers it needs (numpy only for the recommender); the build prints each
function's unzipped total (its code plus its layers) and fails above the
Lambda limit of 250 MB.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "layers" / "build"
MIB = 1024 * 1024
LAMBDA_UNZIPPED_LIMIT = 250 * MIB
# The Python 3.12 runtime is Amazon Linux 2023 (glibc 2.34): manylinux_2_28 wheels
# load there, and recent numpy ships no manylinux2014 (glibc 2.17) wheel any more.
PLATFORM_FLAGS = ("--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64")

# Layer name -> the packages it installs, at the versions the requirements files pin (each package is
# pinned once, in requirements.txt or a file it includes). boto3 is left out: the Lambda Python runtime ships it.
REQUIREMENTS = REPO / "requirements.txt"
LAYER_PACKAGES: dict[str, tuple[str, ...]] = {
    "api": ("fastapi", "mangum", "fastapi-offline"),   # the last: /docs' Swagger UI files
    "numpy": ("numpy",),
}
SHARED_LAYER = "streamlens"          # the shared kernel, streamlens/
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*(?P<version>[^\s;#]+)")


def normalized(name: str) -> str:
    """A package name as pip compares them (PEP 503): fastapi_offline and FastAPI-Offline are fastapi-offline."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path = REQUIREMENTS) -> list[tuple[str, str, Path]]:
    """Every `name==version` line of a requirements file and of the files it includes (`-r`), in order, as
    (normalized name, version, file); a requirement that is not pinned exactly has no version."""
    pins = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(("-r ", "--requirement ")):
            pins += read_pins((path.parent / line.split(None, 1)[1]).resolve())
        elif not line.startswith("-"):
            match = PIN.match(line)
            name = match["name"] if match else re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0]
            pins.append((normalized(name), match["version"] if match else "", path))
    return pins


def layer_requirements(path: Path = REQUIREMENTS) -> dict[str, list[str]]:
    """Layer name -> pip requirements, each package at the one version the requirements files pin."""
    versions: dict[str, list[str]] = {}
    for name, version, _ in read_pins(path):
        versions.setdefault(name, []).append(version)
    out: dict[str, list[str]] = {}
    for layer, packages in LAYER_PACKAGES.items():
        out[layer] = []
        for package in packages:
            found = versions.get(normalized(package), [])
            if len(found) != 1 or not found[0]:
                raise ValueError(f"layer {layer}: {package} must be pinned (name==version) exactly once in "
                                 f"{path.name} or a file it includes; found {found or 'none'}")
            out[layer].append(f"{package}=={found[0]}")
    return out


LAYERS: dict[str, list[str]] = layer_requirements()


def layer_path(name: str) -> Path:
    return BUILD / name


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def build_layer(name: str, requirements: list[str]) -> None:
    target = layer_path(name) / "python"
    shutil.rmtree(layer_path(name), ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    *PLATFORM_FLAGS, "--implementation", "cp", "--python-version", "3.12",
                    "--only-binary=:all:", "--target", str(target), *requirements], check=True)
    for junk in target.rglob("__pycache__"):
        shutil.rmtree(junk, ignore_errors=True)


def build_shared_layer() -> None:
    target = layer_path(SHARED_LAYER) / "python" / "streamlens"
    shutil.rmtree(layer_path(SHARED_LAYER), ignore_errors=True)
    shutil.copytree(REPO / "streamlens", target,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def report() -> int:
    """Print each function's unzipped total (code + layers, as the stack wires them); 1 if one is over."""
    from infra.data_api import FUNCTIONS

    worst = 0
    for spec in FUNCTIONS:
        code_root = REPO / (spec.code_root or f"functions/{spec.name}")
        code = _size(code_root) - (_size(code_root / "streamlens") if spec.code_root else 0)
        total = code + sum(_size(layer_path(name)) for name in spec.layers)
        worst = max(worst, total)
        flag = "OVER THE LIMIT" if total > LAMBDA_UNZIPPED_LIMIT else "ok"
        print(f"{spec.name:20s} code {code / MIB:6.2f} MiB + layers {', '.join(spec.layers):24s} "
              f"= {total / MIB:6.1f} MiB unzipped ({flag}; limit {LAMBDA_UNZIPPED_LIMIT / MIB:.0f} MiB)")
    return 1 if worst > LAMBDA_UNZIPPED_LIMIT else 0


def built() -> bool:
    return all((layer_path(name) / "python").is_dir() for name in [*LAYERS, SHARED_LAYER])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report sizes")
    args = parser.parse_args()
    if not args.check:
        for name, requirements in LAYERS.items():
            print(f"building layer {name}: {' '.join(requirements)}", flush=True)
            build_layer(name, requirements)
        build_shared_layer()
    return report()


if __name__ == "__main__":
    sys.exit(main())
