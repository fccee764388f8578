"""ETL benchmark: real catalogs + generated ratings at production scale.

Run: make bench-etl (or python bench/etl_bench.py [--ratings N --users U]).
Writes bench/results/etl.json. Targets on a 2-core machine: the ETL without
training within 60 s and 3 GB peak memory; training within 5 minutes.

Every step runs in a fresh process (wall time and peak RSS from wait4), the
embedded S3 in a process of its own so that its memory is not counted. The
baseline, measured in the same run, is the bare cost of reading the same
input files with pandas: the ETL's time is reported as a ratio of it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "etl.json"
PY = sys.executable

READ_BASELINE = """
import glob, sys, pandas as pd
root = sys.argv[1]
for f in sorted(glob.glob(root + '/streaming/*.csv')):
    pd.read_csv(f, dtype=str, keep_default_na=False)
n = sum(len(pd.read_csv(f, engine='pyarrow')) for f in sorted(glob.glob(root + '/streaming/ratings/*.csv')))
print(n)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measured(cmd: list[str], env: dict) -> dict:
    """Run a command in a fresh process: wall seconds, peak RSS (MB), exit code, output tail."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": round(time.perf_counter() - started, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "exit_code": proc.returncode, "output_tail": output.strip().splitlines()[-25:]}


@contextmanager
def embedded_s3(bucket: str) -> Iterator[dict]:
    """moto's S3 server in a process of its own, so that its memory is not the ETL's; yields the environment
    that points the ETL at it."""
    port = free_port()
    s3 = subprocess.Popen([PY, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2.0)
        yield {**os.environ, "STREAMLENS_S3_ENDPOINT": f"http://127.0.0.1:{port}", "STREAMLENS_BUCKET": bucket}
    finally:
        s3.terminate()
        s3.wait()


def add_shared_flag(parser: argparse.ArgumentParser) -> None:
    """--shared: the shared data folder beside the repository ($STREAMLENS_SHARED_DATA overrides it)."""
    parser.add_argument("--shared",
                        default=os.environ.get("STREAMLENS_SHARED_DATA", str(REPO.parent / "shared" / "data")))


def real_catalogs(shared: str) -> Path | None:
    """The shared data folder when it holds the real catalogs; None, saying the bench is skipped, when not."""
    folder = Path(shared)
    if not (folder / "streaming").is_dir():
        print(f"skipped: real catalogs not found under {folder} (set STREAMLENS_SHARED_DATA)")
        return None
    return folder


def prepare_data(folder: Path, shared: Path, ratings: int, users: int) -> None:
    """Real catalogs linked (never copied) beside generated ratings, cached between runs."""
    streaming = folder / "streaming"
    streaming.mkdir(parents=True, exist_ok=True)
    for csv in sorted((shared / "streaming").glob("*_titles.csv")):
        link = streaming / csv.name
        if not link.exists():
            link.symlink_to(csv.resolve())
    stamp = folder / "ratings-params.json"
    params = {"ratings": ratings, "users": users}
    if stamp.exists() and json.loads(stamp.read_text()) == params:
        return
    for old in (streaming / "ratings").glob("*.csv"):
        old.unlink()
    subprocess.run([PY, "-m", "etl_job", "sample", "--out", str(folder), "--ratings", str(ratings),
                    "--users", str(users)], cwd=REPO, check=True)
    stamp.write_text(json.dumps(params))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ratings", type=int, default=11_000_000)
    parser.add_argument("--users", type=int, default=115_000)
    add_shared_flag(parser)
    parser.add_argument("--skip-training-run", action="store_true")
    args = parser.parse_args()
    shared = real_catalogs(args.shared)
    if shared is None:
        return 0
    folder = REPO / ".local" / "bench-data"
    prepare_data(folder, shared, args.ratings, args.users)

    with embedded_s3("bench") as env:
        baseline = measured([PY, "-c", READ_BASELINE, str(folder)], env)
        etl = measured([PY, "-m", "etl_job", "run", "--data-dir", str(folder), "--skip-training"], env)
        full = (None if args.skip_training_run
                else measured([PY, "-m", "etl_job", "run", "--data-dir", str(folder)], env))
        card = model_card(env) if full and full["exit_code"] == 0 else None

    result = {
        "inputs": {"catalogs": "real (4 platforms)", "ratings": args.ratings, "users": args.users},
        "baseline_read_inputs_only": baseline,
        "etl_without_training": etl,
        "etl_with_training": full,
        "training": None if not card else {
            "train_seconds": card["train_seconds"], "final_fit_seconds": card["final_fit_seconds"],
            "grid_search_seconds": card["grid_search"]["seconds"], "chosen": card["chosen"],
            "candidates": {k: {m: v.get(m) for m in ("rmse", "mae", "fit_seconds")}
                           for k, v in card["candidates"].items()},
            "ranking": {k: card["ranking"].get(k) for k in ("chosen", "train_seconds", "evaluation_seconds",
                                                             "final_fit_seconds", "titles_without_ratings")}
            | {"evaluation_all": card["ranking"]["evaluation"]["all"]},
            "recommender_objects_mb": card["object_sizes_mb"],
        },
        "ratios": {"etl_to_read_baseline": round(etl["seconds"] / baseline["seconds"], 2),
                   "etl_peak_rss_to_read_baseline": round(etl["peak_rss_mb"] / baseline["peak_rss_mb"], 2)},
        "targets": {"etl_seconds_max": 60, "etl_peak_mb_max": 3072, "train_seconds_max": 300},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: result[k] for k in ("ratios", "targets")}, indent=1))
    print(f"read baseline {baseline['seconds']} s / {baseline['peak_rss_mb']} MB; "
          f"ETL without training {etl['seconds']} s / {etl['peak_rss_mb']} MB (exit {etl['exit_code']})")
    if result["training"]:
        training = result["training"]
        ranking = training["ranking"]
        print(f"training {training['train_seconds']} s (final fit {training['final_fit_seconds']} s); "
              f"ranking model {ranking['train_seconds']} s (final fit {ranking['final_fit_seconds']} s); "
              f"recommender objects {training['recommender_objects_mb']} MB")
    print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0 if etl["exit_code"] == 0 and (full is None or full["exit_code"] == 0) else 1


def model_card(env: dict) -> dict:
    """The live release's recommender model card, with the sizes of the recommender function's objects."""
    code = ("import json; from streamlens.config import get_settings; from streamlens.storage import ObjectStore;"
            "from streamlens.release import read_manifest, object_key; s=get_settings();"
            " st=ObjectStore.from_settings(s);"
            "m=read_manifest(st,s); card=json.loads(st.get(object_key(m,'models/recommender/model_card.json')));"
            "card['object_sizes_mb']={n: round(m['objects'][n]['size']/2**20, 1) for n in "
            "('models/recommender/model.npz', 'slices/recommender/bundle.npz')}; print(json.dumps(card))")
    return json.loads(subprocess.run([PY, "-c", code], env=env, cwd=REPO, capture_output=True, text=True,
                                     check=True).stdout)


if __name__ == "__main__":
    sys.exit(main())
