"""ETL scale curve: time and peak memory per stage at 1, 3, 11 and 30 million generated ratings.

Run: make bench-scale (or python bench/etl_scale.py [--sizes 1000000,3000000] [--merge]); on a 2-core machine
it takes about an hour with the data generation (the four runs took 9 to 19 minutes each under load) and
13.3 GB of memory at 30 million ratings. Writes bench/results/etl_scale.json after each size (--merge keeps
the sizes not re-measured); docs/scale.md reads it (the curve, and where Lambda, Fargate and one machine stop).

The data are prepared as bench/etl_bench.py does (its prepare_data: the real catalogs linked from the shared
data folder beside generated ratings, cached in .local/bench-scale-<ratings>), users scaled with ratings
(115,000 at 11 million). Per size: a fresh embedded S3 in a process of its own, then one ETL run with training
in a fresh process. Its progress lines (etl_job/progress.py, one on stderr when a stage ends) are read as they
stream while a thread samples the RSS of the ETL process and of its descendants (the grid search's workers)
from /proc at about 20 Hz; each sample belongs to the stage running, i.e. to the next line printed (a long
stage's start and progress lines count in that stage). Stages that repeat (training: candidate, baseline) are
summed in seconds, their peak the largest. The whole run's wall time and peak RSS come from wait4.
The load average is noted before and after each size (the machine is shared), and the commit and the changed
files of etl_job/ and streamlens/ that the run imported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from etl_bench import PY, REPO, add_shared_flag, embedded_s3, prepare_data, real_catalogs

RESULTS = REPO / "bench" / "results" / "etl_scale.json"
SIZES = (1_000_000, 3_000_000, 11_000_000, 30_000_000)
USERS_PER_RATING = 115_000 / 11_000_000     # bench/etl_bench.py's production shape
STAGE_LINE = re.compile(r"^\[\s*([0-9.]+)s\] ([^:]+(?:: [^:=]+)?): ?(.*)$")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def rss_kb(pid: int) -> int:
    """Resident memory of one process in kB (statm's resident pages: /proc/<pid>/status's VmRSS); 0 once gone."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def descendants(root: int) -> list[int]:
    """The processes under root (its children, theirs...), from each /proc/<pid>/stat's parent id."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Sampler(threading.Thread):
    """RSS of a process and of its process tree at about `hz`, the peaks kept per stage (the running stage
    takes every sample until its line is printed)."""

    def __init__(self, pid: int, hz: float):
        super().__init__(daemon=True)
        self.pid, self.period = pid, 1.0 / hz
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.samples = 0
        self.peak_main = self.peak_tree = self.max_workers = 0
        self.overall_main = self.overall_tree = 0

    def run(self) -> None:
        kids: list[int] = []
        tick = 0
        while not self.done.is_set():
            main = rss_kb(self.pid)
            if tick % 10 == 0:     # the process tree every 0.5 s: scanning /proc costs more than reading RSS
                kids = descendants(self.pid) if main else []
            tick += 1
            tree = main + sum(rss_kb(k) for k in kids)
            with self.lock:
                self.samples += 1
                self.peak_main, self.peak_tree = max(self.peak_main, main), max(self.peak_tree, tree)
                self.max_workers = max(self.max_workers, len(kids))
                self.overall_main, self.overall_tree = max(self.overall_main, main), max(self.overall_tree, tree)
            self.done.wait(self.period)

    def take(self) -> dict:
        """The peaks since the last call (the stage that just ended), reset for the next stage."""
        with self.lock:
            taken = {"peak_rss_mb": round(self.peak_main / 1024, 1),
                     "peak_tree_rss_mb": round(self.peak_tree / 1024, 1),
                     "workers": self.max_workers, "samples": self.samples}
            self.peak_main = self.peak_tree = self.max_workers = self.samples = 0
            return taken


def run_etl(folder: Path, env: dict, hz: float, flags: tuple[str, ...] = ()) -> dict:
    """One ETL run (with training unless flags say otherwise) in a fresh process, stage by stage."""
    started = time.perf_counter()
    proc = subprocess.Popen([PY, "-m", "etl_job", "run", "--data-dir", str(folder), *flags], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = Sampler(proc.pid, hz)
    sampler.start()
    stdout: list[str] = []
    reader = threading.Thread(target=lambda: stdout.append(proc.stdout.read() if proc.stdout else ""), daemon=True)
    reader.start()
    lines, other, last = [], [], 0.0
    assert proc.stderr is not None
    for raw in proc.stderr:
        line = raw.rstrip("\n")
        match = STAGE_LINE.match(line)
        if not match:
            other.append(line)
            continue
        at = float(match.group(1))
        lines.append({"stage": match.group(2), "details": match.group(3), "at": at,
                      "seconds": round(at - last, 2), "wall": round(time.perf_counter() - started, 2),
                      **sampler.take()})
        last = at
    reader.join()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    tail = sampler.take()
    out = (stdout[0] if stdout else "").splitlines()
    start = max((i for i, line in enumerate(out) if line == "{"), default=None)   # the run's JSON summary
    summary = json.loads("\n".join(out[start:])) if start is not None else None
    return {"exit_code": os.waitstatus_to_exitcode(status), "seconds": round(wall, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "sampled_peak_rss_mb": round(sampler.overall_main / 1024, 1),
            "sampled_peak_tree_rss_mb": round(sampler.overall_tree / 1024, 1),
            "startup_seconds": round(lines[0]["wall"] - lines[0]["at"], 2) if lines else None,
            "after_last_stage": {"seconds": round(wall - (lines[-1]["wall"] if lines else 0.0), 2), **tail},
            "lines": lines, "summary": summary, "stderr_other_tail": other[-15:]}


PROGRESS_DETAILS = re.compile(r"^(started\b|[\d,]+(/[\d,]+)? \w)")   # a long stage's start and progress lines


def by_stage(lines: list[dict]) -> dict[str, dict]:
    """Stages in their order. A long stage's start and progress lines (etl_job/progress.py's Steps: details
    "started ..." or "3/23 chunks ...") count in the stage whose end line comes next; a stage that ends more
    than once (training: candidate) is summed, its peak the largest."""
    stages: dict[str, dict] = {}
    pending: list[dict] = []
    for line in lines:
        if PROGRESS_DETAILS.match(line["details"]):
            pending.append(line)
            continue
        row = stages.setdefault(line["stage"], {"seconds": 0.0, "peak_rss_mb": 0.0, "peak_tree_rss_mb": 0.0,
                                                "times": 0})
        for part in [*pending, line]:
            row["seconds"] = round(row["seconds"] + part["seconds"], 2)
            row["peak_rss_mb"] = max(row["peak_rss_mb"], part["peak_rss_mb"])
            row["peak_tree_rss_mb"] = max(row["peak_tree_rss_mb"], part["peak_tree_rss_mb"])
        row["times"] += 1
        pending = []
    return stages


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict:
    with open("/proc/meminfo") as f:
        mem_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"cpus": os.cpu_count(), "cpu": model, "ram_gb": round(mem_kb / 2**20, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def code_state() -> dict:
    """The commit the ETL ran from, and the files of etl_job/ and streamlens/ changed in the working tree: the
    ETL imports the working tree when it starts, so a run reports which code it measured."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.rstrip()
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "uncommitted": git("status", "--porcelain", "--", "etl_job", "streamlens").splitlines()}


def measure(size: int, shared: Path, hz: float) -> dict:
    users = round(size * USERS_PER_RATING)
    folder = REPO / ".local" / f"bench-scale-{size}"
    t0 = time.perf_counter()
    prepare_data(folder, shared, size, users)
    prepared = round(time.perf_counter() - t0, 1)
    with embedded_s3("bench-scale") as env:
        load_before, code = load(), code_state()
        run = run_etl(folder, env, hz)
        load_after = load()
    counts = (run["summary"] or {}).get("counts", {})
    return {"ratings_generated": size, "users_generated": users, "data_prepared_seconds": prepared, "code": code,
            "load_average_1_5_15": {"before": load_before, "after": load_after},
            "rows": {"ratings": counts.get("ratings"), "ratings_rejects": counts.get("ratings_rejects"),
                     "titles": counts.get("titles"), "users": users},
            "exit_code": run["exit_code"], "seconds": run["seconds"], "peak_rss_mb": run["peak_rss_mb"],
            "sampled_peak_rss_mb": run["sampled_peak_rss_mb"],
            "sampled_peak_tree_rss_mb": run["sampled_peak_tree_rss_mb"],
            "etl_elapsed_seconds": (run["summary"] or {}).get("elapsed_seconds"),
            "startup_seconds": run["startup_seconds"],
            "stages": by_stage(run["lines"]), "after_last_stage": run["after_last_stage"],
            "model": (run["summary"] or {}).get("model"), "lines": run["lines"],
            "stderr_other_tail": run["stderr_other_tail"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="comma-separated ratings counts (default: %(default)s)")
    add_shared_flag(parser)
    parser.add_argument("--hz", type=float, default=20.0, help="RSS samples per second")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--merge", action="store_true",
                        help="keep the other sizes already in the results file (re-measure only --sizes)")
    args = parser.parse_args()
    shared = real_catalogs(args.shared)
    if shared is None:
        return 0
    out = Path(args.out)
    result: dict = {"what": "ETL with training, one run per size: wall seconds and peak RSS per stage",
                    "method": "RSS of the ETL process (and, tree, with its descendants) sampled from /proc at "
                              f"{args.hz:g} Hz, attributed to the stage whose progress line comes next; "
                              "overall peak_rss_mb from wait4 (ru_maxrss)",
                    "catalogs": "real (4 platforms), linked from the shared data folder; no movies folder",
                    "machine": machine(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "sizes": {}}
    if args.merge and out.exists():
        result["sizes"] = json.loads(out.read_text())["sizes"]
    failed = False
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        print(f"{size:,} ratings: preparing and running (load {load()})", flush=True)
        row = measure(size, shared, args.hz)
        result["sizes"][str(size)] = row | {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        result["sizes"] = dict(sorted(result["sizes"].items(), key=lambda kv: int(kv[0])))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n")     # after each size: a long run keeps what it has
        failed |= row["exit_code"] != 0
        top = sorted(row["stages"].items(), key=lambda kv: -kv[1]["seconds"])[:3]
        print(f"{size:,} ratings: exit {row['exit_code']}, {row['seconds']} s, peak {row['peak_rss_mb']:,} MB "
              f"(tree {row['sampled_peak_tree_rss_mb']:,} MB); "
              + "; ".join(f"{k} {v['seconds']} s / {v['peak_rss_mb']:,} MB" for k, v in top), flush=True)
    print(f"wrote {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
