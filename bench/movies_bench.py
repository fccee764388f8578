"""Movies ETL at full size: generated data of the original's size and shape.

Run: make bench-movies (or python bench/movies_bench.py [--movies N]).
Writes bench/results/movies.json. Target: the whole movies ETL (clean and
slice) within 2 minutes and 4 GB on this 2-core machine.

Each step runs in a fresh process (wall time and peak RSS from wait4). The
baseline, in the same run, is reading the two CSV files with pandas; the
parsing is also compared with `ast.literal_eval` of every nested value, the
obvious safe alternative, timed on the same files.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from etl_bench import PY, measured  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "movies.json"
FULL_SIZE = 45_466

READ = """
import sys, pandas as pd
for name in ("movies_metadata.csv", "credits.csv"):
    pd.read_csv(sys.argv[1] + "/" + name, dtype=str, keep_default_na=False)
"""
ETL = """
import sys, time, pandas as pd
from etl_job.movies import clean_movies
from etl_job.movie_slices import build_movie_slices
from etl_job.quality import QualityReport
meta = pd.read_csv(sys.argv[1] + "/movies_metadata.csv", dtype=str, keep_default_na=False)
credits = pd.read_csv(sys.argv[1] + "/credits.csv", dtype=str, keep_default_na=False)
report = QualityReport("movies")
t = time.perf_counter(); movies = clean_movies(meta, credits, report); clean = time.perf_counter() - t
t = time.perf_counter(); build_movie_slices(movies); slices = time.perf_counter() - t
print(f"clean {clean:.1f} s, slices {slices:.1f} s, {len(movies)} movies, {report.total_rejected} rejected")
"""
LITERAL_EVAL = """
import ast, sys, pandas as pd
meta = pd.read_csv(sys.argv[1] + "/movies_metadata.csv", dtype=str, keep_default_na=False)
credits = pd.read_csv(sys.argv[1] + "/credits.csv", dtype=str, keep_default_na=False)
for column in ("genres", "production_companies", "production_countries", "spoken_languages"):
    meta[column].map(lambda v: ast.literal_eval(v) if v.startswith("[") else None)
credits["cast"].map(ast.literal_eval); credits["crew"].map(ast.literal_eval)
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--movies", type=int, default=FULL_SIZE)
    args = parser.parse_args()
    folder = REPO / ".local" / f"bench-movies-{args.movies}"
    if not (folder / "credits.csv").exists():
        from etl_job.sample_movies import write_sample_movies

        write_sample_movies(folder, n_movies=args.movies)
    sizes = {p.name: round(p.stat().st_size / 1e6, 1) for p in folder.glob("*.csv")}
    env = dict(os.environ)
    read = measured([PY, "-c", READ, str(folder)], env)
    etl = measured([PY, "-c", ETL, str(folder)], env)
    literal = measured([PY, "-c", LITERAL_EVAL, str(folder)], env)
    result = {
        "movies": args.movies, "file_mb": sizes,
        "baseline_read_csv": read, "movies_etl": etl, "ast_literal_eval_parse": literal,
        "ratios": {"etl_to_read": round(etl["seconds"] / read["seconds"], 2),
                   "literal_eval_to_etl": round(literal["seconds"] / etl["seconds"], 2)},
        "targets": {"seconds_max": 120, "peak_mb_max": 4096},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: result[k] for k in ("file_mb", "ratios")}))
    print(f"read {read['seconds']} s / {read['peak_rss_mb']} MB; movies ETL {etl['seconds']} s / "
          f"{etl['peak_rss_mb']} MB ({etl['output_tail'][-1] if etl['output_tail'] else ''}); "
          f"ast.literal_eval parse alone {literal['seconds']} s")
    print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0 if etl["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
