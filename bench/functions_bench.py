"""Function latency: cold start and warm p50/p99 per function, against a naive baseline.

Run: make bench-functions (or python bench/functions_bench.py [--ratings N --users U]).
Writes bench/results/functions-<ratings>.json. Targets: warm p50 <= 1 ms for the four
queries, <= 5 ms for a top-10 recommendation over the whole catalog; cold
start <= 1 s.

Setup: the real catalogs plus generated ratings, published by the ETL into a
moto S3 server running in its own process on localhost. Cold start: a fresh
Python process imports the handler and answers its first request (which
downloads the slice from the local S3). Warm: 1,000 API Gateway HTTP API
events through `handler` in one process. The naive baseline, measured in the
same run, is the original brief's style: the whole cleaned catalog in one
pandas DataFrame, filtered on every request.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from etl_bench import free_port, prepare_data

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
EVENTS = 1000

REQUESTS = {
    "get_max_duration": ("/max-duration", [{"year": 2020, "platform": "n", "duration_type": "min"},
                                           {"platform": "amazon"}, {"year": 2018, "duration_type": "season"}]),
    "get_score_count": ("/score-count", [{"platform": "n", "scored": 3.5, "year": 2020},
                                         {"platform": "a", "scored": 4.0, "year": 2019}]),
    "get_count_platform": ("/count-platform", [{"platform": "netflix"}, {"platform": "d"}]),
    "get_actor": ("/actor", [{"platform": "n", "year": 2020}, {"platform": "a", "year": 2019}]),
    "recommender": ("/users/{user}/recommendations", [{"n": 10}]),
}

COLD = """
import json, sys, time
t0 = time.perf_counter()
from streamlens.combined_app import load_handler
module = load_handler(sys.argv[1])
t1 = time.perf_counter()
body = module.handler(json.loads(sys.argv[2]))
t2 = time.perf_counter()
assert "error" not in body, body
print(json.dumps({"import_s": t1 - t0, "first_request_s": t2 - t1, "total_s": t2 - t0}))
"""

WARM = f"EVENTS = {EVENTS}\n" + """
import json, sys, time
from streamlens.combined_app import load_handler
sys.path.insert(0, sys.argv[3])
from functions_bench import http_event
name, requests = sys.argv[1], json.loads(sys.argv[2])
handler = load_handler(name).handler
events = [http_event(path, params, *body) for path, params, *body in requests]
for event in events:
    assert handler(event)["statusCode"] == 200
samples = []
for k in range(EVENTS):
    event = events[k % len(events)]
    t = time.perf_counter_ns()
    response = handler(event)
    samples.append(time.perf_counter_ns() - t)
    assert response["statusCode"] == 200
print(json.dumps(samples))
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
    query = "&".join(f"{k}={v}" for k, v in params.items())
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--shared",
                        default=os.environ.get("STREAMLENS_SHARED_DATA", str(REPO.parent / "shared" / "data")))
    args = parser.parse_args()
    shared = Path(args.shared)
    if not (shared / "streaming").is_dir():
        print(f"skipped: real catalogs not found under {shared} (set STREAMLENS_SHARED_DATA)")
        return 0
    folder = REPO / ".local" / f"bench-functions-{args.ratings}"
    prepare_data(folder, shared, args.ratings, args.users)

    port = free_port()
    s3 = subprocess.Popen([PY, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {**os.environ, "STREAMLENS_S3_ENDPOINT": f"http://127.0.0.1:{port}", "STREAMLENS_BUCKET": "bench"}
    results: dict[str, dict] = {}
    try:
        time.sleep(2.0)
        subprocess.run([PY, "-m", "etl_job", "run", "--data-dir", str(folder)], env=env, cwd=REPO, check=True,
                       capture_output=True)
        user = top_user(folder)
        for name, (path, params) in REQUESTS.items():
            path = path.format(user=user)
            direct = {"user_id": user, **params[0]} if name == "recommender" else params[0]
            cold = [run(COLD, name, json.dumps(direct), env=env) for _ in range(args.cold_runs)]
            warm = run(WARM, name, json.dumps([[path, p] for p in params]), str(REPO / "bench"), env=env)
            entry = {"cold_start_s": {k: round(statistics.median(c[k] for c in cold), 4)
                                      for k in ("import_s", "first_request_s", "total_s")},
                     "warm": percentiles(warm)}
            if name == "recommender":
                naive = run(NAIVE_TOP_N, str(user), env=env)
                entry["naive_python_loop_top10"] = percentiles(naive)
                entry["ratio_naive_to_ours_p50"] = round(
                    entry["naive_python_loop_top10"]["p50_ms"] / entry["warm"]["p50_ms"], 1)
            else:
                naive = run(NAIVE, name, json.dumps(params), env=env)
                entry["naive_dataframe"] = {"cold_load_s": round(naive["cold_s"], 4), **percentiles(naive["samples"])}
                entry["ratio_naive_to_ours_p50"] = round(
                    entry["naive_dataframe"]["p50_ms"] / entry["warm"]["p50_ms"], 1)
            results[name] = entry
            print(name, json.dumps(entry), flush=True)
        for label, requests in recommender_variants(folder).items():
            results[f"recommender: {label}"] = {"warm": percentiles(
                run(WARM, "recommender", json.dumps(requests), str(REPO / "bench"), env=env))}
            print(label, json.dumps(results[f"recommender: {label}"]), flush=True)
        results["recommender_objects_mb"] = object_sizes(env)
    finally:
        s3.terminate()
        s3.wait()

    out = {"ratings": args.ratings, "users": args.users, "events_per_function": EVENTS,
           "targets": {"warm_p50_ms_queries": 1.0, "warm_p50_ms_top10": 5.0, "cold_start_s": 1.0},
           "functions": results, "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
           "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    results_file = REPO / "bench" / "results" / f"functions-{args.ratings}.json"
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
