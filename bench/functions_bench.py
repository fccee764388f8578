"""Function latency measured the way Lambda runs a function: cold start (import, first answer) and warm
p50/p99 for every function, with and without the layers' bytecode, against a naive baseline.

Run: make bench-functions (or python bench/functions_bench.py [--ratings N --users U]).
Writes bench/results/functions.json. Targets (issue 15): import + first answer <= 0.6 s for the query
functions, <= 1.0 s for the recommender and the similar-titles functions (similar, recomendacion; docs,
which imports every router, is held to the same); warm p50 <= 1 ms for the queries, <= 5 ms for a top-10.

As Lambda runs it: a Python 3.12 (layers/build.py's: $STREAMLENS_LAYER_PYTHON, python3.12 or pyenv's; else
this interpreter, with layers built for it, and the results say so) started with -I -S -B, whose sys.path
holds only the function's code folder, its layers (infra/data_api.py FUNCTIONS, in order) and a runtime folder
with boto3 (the Lambda runtime ships it), then the standard library. Its environment is the S3 settings and
the variables the stack gives the function (FunctionSpec.environment: OPENBLAS_NUM_THREADS=1 for the numpy
ones; the recommender's 50-user figure is also measured without), none of this machine's. Code and layers are
copies in a temporary folder, read-only (chmod a-w; -B because root ignores that), and the bench checks that
no .pyc appeared. Each variant is the same copy of the layers with their __pycache__ ("bytecode", as `make
layers` ships them) or without ("no bytecode", as before issue 15); the runs alternate between the two, so the
ratio is of the same minutes of this shared machine. The first request is an API Gateway HTTP API event
through `handler` that reads the release from a moto S3 server (its own process) where the ETL published the
real catalogs, the movies files and generated ratings. Warm: EVENTS events in the same process after it. The
naive baseline (this venv, same run) is the original brief's style: the whole cleaned catalog in one pandas
DataFrame, filtered on every request; for the recommender, a Python loop over every title.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from etl_bench import add_shared_flag, free_port, prepare_data, real_catalogs

if TYPE_CHECKING:
    from infra.data_api import FunctionSpec

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
EVENTS = 1000
VARIANTS = ("bytecode", "no_bytecode")
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")
MOVIES_FILES = ("movies_metadata.csv", "credits.csv")
SLOWER_TARGET = ("recommender", "similar", "recomendacion", "docs")
TARGETS_S = {"queries": 0.6, "recommender, similar titles, docs": 1.0}

# Function -> (path, query parameter sets); the first is the cold start's request, warm cycles over all.
REQUESTS: dict[str, tuple[str, list[dict]]] = {
    "get_max_duration": ("/max-duration", [{"year": 2020, "platform": "n", "duration_type": "min"},
                                           {"platform": "amazon"}, {"year": 2018, "duration_type": "season"}]),
    "get_score_count": ("/score-count", [{"platform": "n", "scored": 3.5, "year": 2020},
                                         {"platform": "a", "scored": 4.0, "year": 2019}]),
    "get_count_platform": ("/count-platform", [{"platform": "netflix"}, {"platform": "d"}]),
    "get_actor": ("/actor", [{"platform": "n", "year": 2020}, {"platform": "a", "year": 2019}]),
    "recommender": ("/users/{user}/recommendations", [{"n": 10}]),
    "peliculas_idioma": ("/movies/language", [{"idioma": "en"}, {"idioma": "fr"}]),
    "peliculas_duracion": ("/movies/duration", [{"pelicula": "Toy Story"}, {"pelicula": "Heat"}]),
    "franquicia": ("/movies/franchise", [{"franquicia": "Toy Story Collection"}]),
    "peliculas_pais": ("/movies/country", [{"pais": "France"}, {"pais": "Japan"}]),
    "productoras_exitosas": ("/movies/production-company", [{"productora": "Pixar Animation Studios"}]),
    "get_director": ("/movies/director", [{"nombre_director": "John Lasseter"}]),
    "recomendacion": ("/movies/recommendation", [{"titulo": "Toy Story"}, {"titulo": "Heat"}]),
    "similar": ("/similar", [{"title": "the queen's gambit"}, {"title": "stranger things"}]),
    "reports": ("/reports", [{}]),
    "titles": ("/titles", [{"q": "love"}, {"q": "star"}]),
    "docs": ("/openapi.json", [{}]),
}

# Runs in the Lambda-like interpreter: argv = code folder, module, JSON [sys.path folders], JSON [events], warm.
LAMBDA = """
import importlib, json, sys, time
import os
code, module, warm = sys.argv[1], sys.argv[2], int(sys.argv[5])
folders, events = json.loads(sys.argv[3]), json.loads(sys.argv[4])
sys.path[:0] = [code, *folders]
t0, c0 = time.perf_counter(), time.process_time()
handler = importlib.import_module(module).handler
t1, c1 = time.perf_counter(), time.process_time()
first = handler(events[0], None)
t2 = time.perf_counter()
assert first["statusCode"] == 200, first
ours = [m for m in list(sys.modules.values())
        if any((getattr(m, "__file__", None) or "").startswith(f) for f in folders[:-1])]
samples = []
for k in range(warm):
    t = time.perf_counter_ns()
    response = handler(events[k % len(events)], None)
    samples.append(time.perf_counter_ns() - t)
    assert response["statusCode"] == 200, response
print(json.dumps({"import_s": t1 - t0, "import_cpu_s": c1 - c0, "first_request_s": t2 - t1,
                  "first_answer_s": t2 - t0, "warm_ns": samples, "layer_modules": len(ours),
                  "layer_modules_with_bytecode": sum(os.path.exists(getattr(m, "__cached__", None) or "")
                                                     for m in ours)}))
"""

NAIVE = f"EVENTS = {EVENTS}\n" + """
import io, json, sys, time
import pandas as pd
from streamlens.config import get_settings
from streamlens.release import object_key, read_manifest
from streamlens.storage import ObjectStore
t0 = time.perf_counter()
settings = get_settings(); store = ObjectStore.from_settings(settings); manifest = read_manifest(store, settings)
df = pd.read_parquet(io.BytesIO(store.get(object_key(manifest, "data/titles.parquet"))))
df = df.merge(pd.read_parquet(io.BytesIO(store.get(object_key(manifest, "data/scores.parquet")))), on="id")
cold = time.perf_counter() - t0
names = {"n": "netflix", "a": "amazon", "d": "disney", "h": "hulu"}
def max_duration(year=None, platform=None, duration_type="min"):
    rows = df[df.duration_type == duration_type]
    if year is not None: rows = rows[rows.release_year == year]
    if platform is not None: rows = rows[rows.platform == names.get(platform, platform)]
    return rows.sort_values(["duration_int", "title", "id"], ascending=[False, True, True]).iloc[0].title
def score_count(platform, scored, year):
    p = names.get(platform, platform)
    return int(((df.platform == p) & (df.type == "movie") & (df.release_year == year) & (df.score > scored)).sum())
def count_platform(platform):
    return int(((df.platform == names.get(platform, platform)) & (df.type == "movie")).sum())
def actor(platform, year):
    rows = df[(df.platform == names.get(platform, platform)) & (df.release_year == year)]
    return rows.cast.dropna().str.split(", ").explode().value_counts().index[0]
fn = {"get_max_duration": max_duration, "get_score_count": score_count, "get_count_platform": count_platform,
      "get_actor": actor}[sys.argv[1]]
requests = json.loads(sys.argv[2])
samples = []
for k in range(EVENTS):
    t = time.perf_counter_ns(); fn(**requests[k % len(requests)]); samples.append(time.perf_counter_ns() - t)
print(json.dumps({"cold_s": cold, "samples": samples}))
"""

NAIVE_TOP_N = """
import json, sys, time
from streamlens.combined_app import load_handler
module = load_handler("recommender")
module.handler({"user_id": int(sys.argv[1]), "n": 10})
rec = module.fn.cache.built()
model, user = rec.model, int(sys.argv[1])
samples = []
for k in range(50):
    t = time.perf_counter_ns()
    scored = sorted(((model.estimate(user, i), i) for i in model.item_ids.tolist()), key=lambda p: (-p[0], p[1]))[:10]
    samples.append(time.perf_counter_ns() - t)
print(json.dumps(samples))
"""


def http_event(path: str, params: dict, body: dict | None = None) -> dict:
    """An HTTP API event: a GET, or a POST of a JSON body."""
    query = urlencode(params)
    event = {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
             "headers": {"host": "bench"}, "queryStringParameters": {k: str(v) for k, v in params.items()} or None,
             "requestContext": {"http": {"method": "GET" if body is None else "POST", "path": path,
                                         "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "bench"},
                                "requestId": "b", "stage": "$default"}, "isBase64Encoded": False}
    if body is not None:
        event["body"] = json.dumps(body)
        event["headers"]["content-type"] = "application/json"
    return event


def percentiles(samples_ns: list[int]) -> dict:
    ordered = sorted(samples_ns)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6, 4)  # noqa: E731
    return {"p50_ms": pick(0.50), "p99_ms": pick(0.99), "mean_ms": round(statistics.mean(ordered) / 1e6, 4)}


def run(code: str, *args: str, env: dict) -> object:
    out = subprocess.run([PY, "-c", code, *args], env=env, cwd=REPO, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def layers_module():
    spec = importlib.util.spec_from_file_location("streamlens_layers_build", REPO / "layers" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def interpreter() -> tuple[str, str]:
    """(the Python to run the functions with, its version): the layers' 3.12 when there is one."""
    python = layers_module().find_python312() or PY
    return python, subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                                  capture_output=True, text=True, check=True).stdout.strip()


def layer_trees(python: str, version: str) -> Path:
    """The folder holding <layer>/python as Lambda would get them: `make layers` output for a 3.12, else the
    same pins built for this interpreter's version (cached in .local) and compiled by it the same way."""
    build = layers_module()
    if version.startswith(build.LAMBDA_PYTHON + "."):
        if not build.built():
            raise SystemExit("layers/build is missing or has no bytecode: run `make layers` first")
        return build.BUILD
    minor = ".".join(version.split(".")[:2])
    root = REPO / ".local" / f"bench-layers-{minor}"
    stamp = root / "requirements.json"
    if not stamp.exists() or json.loads(stamp.read_text()) != build.LAYERS:
        for name, requirements in build.LAYERS.items():
            build.build_layer(name, requirements, python_version=minor, root=root, bytecode=False)
        shutil.rmtree(root / build.SHARED_LAYER, ignore_errors=True)
        shutil.copytree(REPO / "streamlens", root / build.SHARED_LAYER / "python" / "streamlens",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for name in [*build.LAYERS, build.SHARED_LAYER]:
            subprocess.run([python, "-m", "compileall", "-q", "-d", build.LAYER_ROOT, "--invalidation-mode",
                            "unchecked-hash", str(root / name / "python")], check=True, stdout=subprocess.DEVNULL)
        stamp.write_text(json.dumps(build.LAYERS))
    return root


def sandbox(python: str, layers: Path, tmp: Path) -> dict[str, Path]:
    """Read-only copies: each variant's task/ (functions/, no bytecode, as the code zip excludes it) and
    opt/<layer>/, and one runtime/ with boto3, compiled (the runtime's own files, the same for both)."""
    site = Path(subprocess.run([PY, "-c", "import boto3, pathlib; print(pathlib.Path(boto3.__file__).parents[1])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    runtime = tmp / "runtime"
    for name in RUNTIME_PACKAGES:
        copy = shutil.copytree if (site / name).is_dir() else shutil.copy2
        copy(site / name, runtime / name)
    subprocess.run([python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(runtime)],
                   check=True, stdout=subprocess.DEVNULL)
    roots = {"runtime": runtime}
    for variant in VARIANTS:
        root = tmp / variant
        shutil.copytree(REPO / "functions", root / "task", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for layer in layers.iterdir():
            if (layer / "python").is_dir() and not layer.name.startswith("."):
                shutil.copytree(layer / "python", root / "opt" / layer.name,
                                ignore=shutil.ignore_patterns("__pycache__") if variant == "no_bytecode" else None)
        roots[variant] = root
    subprocess.run(["chmod", "-R", "a-w", str(tmp)], check=True)
    return roots


def pyc_count(tmp: Path) -> int:
    return sum(1 for _ in tmp.rglob("*.pyc"))


def lambda_run(python: str, roots: dict[str, Path], variant: str, spec: FunctionSpec, events: list[dict], warm: int,
               env: dict, own_environment: bool = True) -> dict:
    """One cold start in a fresh Lambda-like process, and `warm` events after it; the function's own variables
    (spec.environment) set unless own_environment is False (to measure what they change)."""
    root = roots[variant]
    code = root / "task" / Path(spec.code_root or f"functions/{spec.name}").relative_to("functions")
    module = spec.handler.rsplit(".", 1)[0].replace("/", ".")
    folders = [str(root / "opt" / layer) for layer in spec.layers] + [str(roots["runtime"])]
    own = spec.environment if own_environment else {}
    out = subprocess.run([python, "-I", "-S", "-B", "-c", LAMBDA, str(code), module, json.dumps(folders),
                          json.dumps(events), str(warm)], env={**env, **own}, cwd=root, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{spec.name} ({variant}): {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def summary(runs: list[dict]) -> dict:
    """Medians of the cold runs; warm percentiles from the run that served warm events."""
    entry = {key: round(statistics.median(r[key] for r in runs), 4)
             for key in ("import_s", "import_cpu_s", "first_request_s", "first_answer_s")}
    entry["layer_modules"] = runs[0]["layer_modules"]
    entry["layer_modules_with_bytecode"] = runs[0]["layer_modules_with_bytecode"]
    warm = next((r["warm_ns"] for r in runs if r["warm_ns"]), None)
    if warm:
        entry["warm"] = percentiles(warm)
    return entry


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--cold-runs", type=int, default=5)
    add_shared_flag(parser)
    args = parser.parse_args()
    shared = real_catalogs(args.shared)
    if shared is None:
        return 0
    from infra.data_api import FUNCTIONS

    python, version = interpreter()
    print(f"functions run by Python {version} ({python})", flush=True)
    folder = REPO / ".local" / f"bench-functions-{args.ratings}"
    prepare_data(folder, shared, args.ratings, args.users)
    (folder / "movies").mkdir(exist_ok=True)
    for name in MOVIES_FILES:
        if not (folder / "movies" / name).exists() and (shared / "movies" / name).exists():
            (folder / "movies" / name).symlink_to((shared / "movies" / name).resolve())

    port = free_port()
    s3 = subprocess.Popen([PY, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s3_env = {"STREAMLENS_S3_ENDPOINT": f"http://127.0.0.1:{port}", "STREAMLENS_BUCKET": "bench",
              "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
    env = {**os.environ, **s3_env}
    lambda_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": ":UTC", **s3_env}
    tmp = Path(tempfile.mkdtemp(prefix="streamlens-bench-"))
    results: dict[str, dict] = {}
    try:
        roots = sandbox(python, layer_trees(python, version), tmp)
        pycs = pyc_count(tmp)
        time.sleep(2.0)
        subprocess.run([PY, "-m", "etl_job", "run", "--data-dir", str(folder)], env=env, cwd=REPO, check=True,
                       capture_output=True)
        user = top_user(folder)
        for spec in FUNCTIONS:
            path, params = REQUESTS[spec.name]
            events = [http_event(path.format(user=user), p) for p in params]
            runs: dict[str, list[dict]] = {variant: [] for variant in VARIANTS}
            for k in range(args.cold_runs):
                for variant in VARIANTS if k % 2 == 0 else VARIANTS[::-1]:
                    runs[variant].append(lambda_run(python, roots, variant, spec, events, EVENTS if k == 0 else 0,
                                                    lambda_env))
            entry: dict = {"memory_mb": spec.memory, "layers": list(spec.layers),
                           **{variant: summary(runs[variant]) for variant in VARIANTS}}
            entry["ratio_no_bytecode_to_bytecode"] = {
                key: round(entry["no_bytecode"][key] / entry["bytecode"][key], 2)
                for key in ("import_s", "import_cpu_s", "first_answer_s")}
            target = TARGETS_S["recommender, similar titles, docs" if spec.name in SLOWER_TARGET else "queries"]
            entry["target_first_answer_s"] = target
            entry["met"] = entry["bytecode"]["first_answer_s"] <= target
            if spec.name == "recommender":
                naive = run(NAIVE_TOP_N, str(user), env=env)
                entry["naive_python_loop_top10"] = percentiles(naive)
                entry["ratio_naive_to_ours_p50"] = round(
                    entry["naive_python_loop_top10"]["p50_ms"] / entry["bytecode"]["warm"]["p50_ms"], 1)
            elif spec.name in ("get_max_duration", "get_score_count", "get_count_platform", "get_actor"):
                naive = run(NAIVE, spec.name, json.dumps(params), env=env)
                entry["naive_dataframe"] = {"cold_load_s": round(naive["cold_s"], 4), **percentiles(naive["samples"])}
                entry["ratio_naive_to_ours_p50"] = round(
                    entry["naive_dataframe"]["p50_ms"] / entry["bytecode"]["warm"]["p50_ms"], 1)
            results[spec.name] = entry
            print(spec.name, json.dumps(entry), flush=True)
        recommender = next(spec for spec in FUNCTIONS if spec.name == "recommender")
        for label, requests in recommender_variants(folder).items():
            events = [http_event(p, params, *body) for p, params, *body in requests]
            warm = lambda_run(python, roots, "bytecode", recommender, events, EVENTS, lambda_env)["warm_ns"]
            results[f"recommender: {label}"] = {"warm": percentiles(warm)}
            print(label, json.dumps(results[f"recommender: {label}"]), flush=True)
            if label.startswith("top-10 of 50 users"):      # the same without OPENBLAS_NUM_THREADS=1
                warm = lambda_run(python, roots, "bytecode", recommender, events, EVENTS, lambda_env,
                                  own_environment=False)["warm_ns"]
                results[f"recommender: {label}, OpenBLAS's own threads"] = {"warm": percentiles(warm)}
                print(label, "(OpenBLAS's own threads)", json.dumps(percentiles(warm)), flush=True)
        results["recommender_objects_mb"] = object_sizes(env)
        written = pyc_count(tmp) - pycs
        if written:
            raise RuntimeError(f"{written} .pyc files were written into the read-only copies")
    finally:
        s3.terminate()
        s3.wait()
        subprocess.run(["chmod", "-R", "u+w", str(tmp)], check=False)
        shutil.rmtree(tmp, ignore_errors=True)

    out = {"ratings": args.ratings, "users": args.users, "events_per_function": EVENTS, "cold_runs": args.cold_runs,
           "targets": {"first_answer_s": TARGETS_S, "warm_p50_ms_queries": 1.0, "warm_p50_ms_top10": 5.0},
           "functions": results,
           "machine": {"python": platform.python_version(), "functions_python": version,
                       "functions_python_is_lambdas": version.startswith("3.12."), "cpus": os.cpu_count()},
           "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    results_file = REPO / "bench" / "results" / "functions.json"
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(out, indent=1))
    print(f"wrote {results_file.relative_to(REPO)}")
    return 0


def recommender_variants(folder: Path) -> dict[str, list]:
    """Top-10 for users across the activity range, with filters, and for visitors' ratings (POST)."""
    import pandas as pd

    first = pd.read_csv(sorted((folder / "streaming" / "ratings").glob("*.csv"))[0])
    counts = first["userId"].value_counts()
    spread = [int(counts.index[int(q * (len(counts) - 1))]) for q in np.linspace(0, 1, 50)]
    titles = first["movieId"][first["movieId"].str.match(r"^[adhn]s\d+$")].drop_duplicates().head(500).tolist()
    visitors = [{"ratings": [{"title_id": t, "rating": 4.5} for t in titles[k:k + size]], "n": 10}
                for k, size in ((0, 5), (5, 20), (25, 100), (0, 500))]
    return {
        "top-10 of 50 users from the most to the least active": [[f"/users/{u}/recommendations", {"n": 10}]
                                                                 for u in spread],
        "top-10 with filters (kids; movies 2010-2020 on netflix)": [
            [f"/users/{u}/recommendations", params] for u in spread[::5]
            for params in ({"n": 10, "max_maturity": "kids"},
                           {"n": 10, "platform": "n", "type": "movie", "year_min": 2010, "year_max": 2020})],
        "POST /recommendations (5, 20, 100 and 500 ratings)": [["/recommendations", {}, v] for v in visitors],
    }


def object_sizes(env: dict) -> dict:
    code = ("import json; from streamlens.config import get_settings; from streamlens.storage import ObjectStore;"
            "from streamlens.release import read_manifest; s=get_settings();"
            " m=read_manifest(ObjectStore.from_settings(s), s);"
            "print(json.dumps({n: round(m['objects'][n]['size']/2**20, 1) for n in "
            "('models/recommender/model.npz', 'slices/recommender/bundle.npz')}))")
    return json.loads(subprocess.run([PY, "-c", code], env=env, cwd=REPO, capture_output=True, text=True,
                                     check=True).stdout)


def top_user(folder: Path) -> int:
    import pandas as pd

    first = sorted((folder / "streaming" / "ratings").glob("*.csv"))[0]
    return int(pd.read_csv(first, usecols=["userId"])["userId"].value_counts().index[0])


if __name__ == "__main__":
    sys.exit(main())
