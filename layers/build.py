"""Build the Lambda layers without Docker, and check every function's size.

    python layers/build.py            # builds into layers/build/<layer>/python
    python layers/build.py --check    # only report sizes of what is built

Dependencies come as manylinux wheels for Python 3.12 on x86_64, so what is
built on any machine is what the Lambda runtime loads. Each function gets only
the layers it needs (numpy only for the recommender); the build prints each
function's unzipped total (its code plus its layers) and fails above the
Lambda limit of 250 MB.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "layers" / "build"
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024

# Layer name -> pip requirements (pinned as in requirements.txt). boto3 is
# left out: the Lambda Python runtime ships it.
LAYERS: dict[str, list[str]] = {
    "api": ["fastapi==0.165.0", "mangum==0.22.0"],
    "numpy": ["numpy==2.4.6"],
}
SHARED_LAYER = "streamlens"          # the functions' shared package, functions/streamlens
FUNCTION_LAYERS: dict[str, list[str]] = {
    "get_max_duration": ["api", SHARED_LAYER],
    "get_score_count": ["api", SHARED_LAYER],
    "get_count_platform": ["api", SHARED_LAYER],
    "get_actor": ["api", SHARED_LAYER],
    "recommender": ["api", "numpy", SHARED_LAYER],
    "docs": ["api", SHARED_LAYER],
}


def layer_path(name: str) -> Path:
    return BUILD / name


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def build_layer(name: str, requirements: list[str]) -> None:
    target = layer_path(name) / "python"
    shutil.rmtree(layer_path(name), ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.12",
                    "--only-binary=:all:", "--target", str(target), *requirements], check=True)
    for junk in target.rglob("__pycache__"):
        shutil.rmtree(junk, ignore_errors=True)


def build_shared_layer() -> None:
    target = layer_path(SHARED_LAYER) / "python" / "streamlens"
    shutil.rmtree(layer_path(SHARED_LAYER), ignore_errors=True)
    shutil.copytree(REPO / "functions" / "streamlens", target,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "local_app.py"))


def report() -> int:
    """Print each function's unzipped total; non-zero when one is over the limit."""
    worst = 0
    for function, layers in FUNCTION_LAYERS.items():
        code = _size(REPO / "functions" / function)
        total = code + sum(_size(layer_path(name)) for name in layers)
        worst = max(worst, total)
        flag = "OVER THE LIMIT" if total > LAMBDA_UNZIPPED_LIMIT else "ok"
        print(f"{function:20s} code {code / 1e6:7.2f} MB + layers {', '.join(layers):24s} "
              f"= {total / 1e6:7.2f} MB unzipped ({flag}, limit {LAMBDA_UNZIPPED_LIMIT / 1e6:.0f} MB)")
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
