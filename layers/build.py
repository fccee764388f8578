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

Every layer ships bytecode for the runtime's Python 3.12 (`__pycache__/*.cpython-312.pyc`, unchecked-hash, so
valid whatever mtimes the zip gives the sources): /opt is read-only in Lambda, so without it every cold start
compiles FastAPI and pydantic again. The compiler: $STREAMLENS_LAYER_PYTHON (a Python 3.12) if set, else
`python3.12` on PATH or pyenv's 3.12.x (the machine image has one), else CPython 3.12 as WebAssembly (npm's
pyodide package, run by node: it compiles, it runs no layer code). With none, the layers are built without
bytecode and --check says so.
"""

from __future__ import annotations

import argparse
import functools
import os
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
    "api": ("fastapi", "mangum", "fastapi-offline", "rapidfuzz"),   # fastapi-offline: /docs' Swagger UI files
    "numpy": ("numpy",),
}
SHARED_LAYER = "streamlens"          # the shared kernel, streamlens/
LAMBDA_PYTHON = "3.12"
PYC_TAG = "cpython-312"
LAYER_ROOT = "/opt/python"           # where Lambda mounts a layer's python/: the path the bytecode records
PYODIDE = "pyodide@0.27.7"           # CPython 3.12.7; its npm tarball holds the interpreter (no download after)
PYODIDE_INTEGRITY = "sha512-RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUBdulEgO26qpSRA=="
PYODIDE_DIR = REPO / ".local" / "pyodide-0.27.7"
PYODIDE_COMPILE = """
const [pkg, ddir, tree] = process.argv.slice(1);
require(pkg + "/pyodide.js").loadPyodide({indexURL: pkg + "/"}).then((py) => {
  py.FS.mkdirTree("/tree");
  py.FS.mount(py.FS.filesystems.NODEFS, {root: tree}, "/tree");
  const ok = py.runPython(`import compileall, py_compile, sys
assert sys.version_info[:2] == (3, 12), sys.version
compileall.compile_dir("/tree", quiet=1, ddir="${ddir}",
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)`);
  process.exit(ok ? 0 : 1);
});
"""
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


def _python_version(python: str) -> str:
    """'3.12' for a Python 3.12; '' for anything that does not run (pyenv's shim of a version not selected)."""
    out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True,
                         text=True, check=False)
    return out.stdout.strip() if out.returncode == 0 else ""


def _fetch_pyodide() -> Path | None:
    """npm's pyodide package in .local/ (npm pack checks the pinned integrity), or None without node and npm."""
    if (PYODIDE_DIR / "pyodide.asm.wasm").exists():
        return PYODIDE_DIR
    if not (shutil.which("node") and shutil.which("npm")):
        return None
    PYODIDE_DIR.parent.mkdir(parents=True, exist_ok=True)
    packed = subprocess.run(["npm", "pack", "--json", "--silent", PYODIDE], cwd=PYODIDE_DIR.parent,
                            capture_output=True, text=True, check=False)
    if packed.returncode:
        print(f"npm pack {PYODIDE} failed: {packed.stderr.strip()[-500:]}", file=sys.stderr)
        return None
    tarball = PYODIDE_DIR.parent / re.findall(r'"filename":\s*"([^"]+)"', packed.stdout)[-1]
    if PYODIDE_INTEGRITY not in packed.stdout:
        tarball.unlink()
        raise RuntimeError(f"{PYODIDE}: the tarball's integrity is not the pinned {PYODIDE_INTEGRITY}")
    shutil.rmtree(PYODIDE_DIR, ignore_errors=True)
    unpacked = PYODIDE_DIR.parent / "package"
    shutil.rmtree(unpacked, ignore_errors=True)
    shutil.unpack_archive(tarball, PYODIDE_DIR.parent)
    unpacked.rename(PYODIDE_DIR)
    tarball.unlink()
    return PYODIDE_DIR


def find_python312() -> str | None:
    """$STREAMLENS_LAYER_PYTHON (which must be a 3.12), else python3.12 on PATH or pyenv's 3.12.x, else None."""
    configured = os.environ.get("STREAMLENS_LAYER_PYTHON")
    if configured:
        if _python_version(configured) != LAMBDA_PYTHON:
            raise SystemExit(f"STREAMLENS_LAYER_PYTHON={configured} is not a Python {LAMBDA_PYTHON}")
        return configured
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = [shutil.which(f"python{LAMBDA_PYTHON}") or "",
             *map(str, sorted(pyenv.glob(f"{LAMBDA_PYTHON}.*/bin/python{LAMBDA_PYTHON}")))]
    return next((python for python in found if python and _python_version(python) == LAMBDA_PYTHON), None)


@functools.cache
def bytecode_compiler() -> tuple[str, list[str]] | None:
    """(what it is, the command that compiles the tree named after it) for the first Python 3.12 found."""
    python = find_python312()
    if python:
        return python, [python, "-m", "compileall", "-q", "-j", "0", "-d", LAYER_ROOT,
                        "--invalidation-mode", "unchecked-hash"]
    pyodide = _fetch_pyodide()
    if pyodide is None:
        return None
    return f"{PYODIDE} (node)", ["node", "-e", PYODIDE_COMPILE, str(pyodide), LAYER_ROOT]


def compile_bytecode(tree: Path) -> bool:
    """Compile every .py under tree (a layer's python/) for Python 3.12; False when no 3.12 is available."""
    compiler = bytecode_compiler()
    if compiler is None:
        print(f"no Python {LAMBDA_PYTHON} (STREAMLENS_LAYER_PYTHON, python3.12, or node and npm for {PYODIDE}): "
              f"{tree} ships without bytecode", file=sys.stderr)
        return False
    subprocess.run([*compiler[1], str(tree)], check=True, stdout=subprocess.DEVNULL)
    return True


def bytecode_status(tree: Path, tag: str = PYC_TAG) -> tuple[int, int]:
    """(sources, sources with an unchecked-hash pyc of the tag): flags 0b01 in the pyc header's bytes 4-8."""
    sources = compiled = 0
    for source in tree.rglob("*.py"):
        sources += 1
        pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        if pyc.exists():
            with pyc.open("rb") as f:
                compiled += int.from_bytes(f.read(8)[4:8], "little") == 0b01
    return sources, compiled


def _install(staging: Path, final: Path) -> None:
    """Put a layer built in staging/ in place in one rename: concurrent builds (test sessions) never see half."""
    old = final.with_name(f".old-{final.name}-{os.getpid()}")
    if final.exists():
        final.rename(old)
    staging.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def build_layer(name: str, requirements: list[str], python_version: str = LAMBDA_PYTHON, root: Path = BUILD,
                bytecode: bool = True) -> None:
    """pip's manylinux wheels for python_version into root/<name>/python, then (by default) 3.12 bytecode."""
    staging = root / f".new-{name}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    target = staging / "python"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    *PLATFORM_FLAGS, "--implementation", "cp", "--python-version", python_version,
                    "--only-binary=:all:", "--target", str(target), *requirements], check=True)
    for junk in target.rglob("__pycache__"):
        shutil.rmtree(junk, ignore_errors=True)
    if bytecode:
        compile_bytecode(target)
    _install(staging, root / name)


def build_shared_layer() -> None:
    staging = BUILD / f".new-{SHARED_LAYER}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(REPO / "streamlens", staging / "python" / "streamlens",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    compile_bytecode(staging / "python")
    _install(staging, layer_path(SHARED_LAYER))


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
    for name in [*LAYERS, SHARED_LAYER]:
        sources, compiled = bytecode_status(layer_path(name) / "python")
        state = "complete" if sources and compiled == sources else "MISSING" if not compiled else "PARTIAL"
        print(f"layer {name:10s} bytecode {state}: {compiled} of {sources} .py files have an unchecked-hash "
              f"{PYC_TAG}.pyc")
    return 1 if worst > LAMBDA_UNZIPPED_LIMIT else 0


def built() -> bool:
    """Every layer is there, with its bytecode (layers built before it shipped bytecode are rebuilt)."""
    return all((layer_path(name) / "python").is_dir() and bytecode_status(layer_path(name) / "python")[1]
               for name in [*LAYERS, SHARED_LAYER])


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
