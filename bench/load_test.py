"""A bounded load on the local run, from a second process over loopback.

Run: make load (or python bench/load_test.py [--requests N] [--concurrency 32 64]).
Starts the local run as `make run` does (embedded S3, ETL with training on
generated data, one uvicorn server for the API and the web page) in its own
process, then sends a fixed number of requests spread over every route, at
each concurrency level, and stops. Writes bench/results/load.json: per level,
requests, errors (any 5xx or connection failure; 4xx are counted apart, the
mix contains deliberate bad requests), throughput and latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "load.json"

# Every route, with the deliberate errors a public API meets (share of the mix in brackets).
ROUTES = [
    "/max-duration?platform=n&year=2020", "/max-duration?duration_type=season",
    "/score-count?platform=a&scored=3&year=2019",
    "/count-platform?platform=disney", "/actor?platform=n", "/recommend?user_id=1&title_id=ns1",
    "/users/1/recommendations?n=10", "/users/999999/recommendations?n=5&platform=h",
    "/similar?title_id=ns1&n=5", "/titles?q=love&limit=10", "/titles/ns1", "/catalog",
    "/movies/language?idioma=en", "/movies/duration?pelicula=heart", "/movies/recommendation?titulo=heart",
    "/reports", "/",
    "/max-duration?platform=xbox", "/score-count?platform=n&scored=9&year=2020", "/titles/zz1",   # 4xx on purpose
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_local_run(workdir: Path) -> tuple[subprocess.Popen, str]:
    data = workdir / "data"
    subprocess.run([sys.executable, "-m", "etl_job", "sample", "--out", str(data), "--ratings", "100000",
                    "--users", "2000", "--movies", "2000"], check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    port = free_port()
    env = {**os.environ, "PORT": str(port), "STREAMLENS_S3_ENDPOINT": f"http://127.0.0.1:{free_port()}",
           "STREAMLENS_DATA_DIR": str(data), "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
    server = subprocess.Popen([sys.executable, "-m", "local_run"], cwd=workdir, env=env,
                              stdout=subprocess.DEVNULL, stderr=(workdir / "server.log").open("w"))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError((workdir / "server.log").read_text()[-2000:])
        try:
            if httpx.get(base + "/catalog", timeout=2).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError("the local run did not start")


async def load(base: str, total: int, concurrency: int) -> dict:
    latencies: list[float] = []
    per_route: dict[str, list[float]] = {}
    statuses: dict[int, int] = {}
    failures: list[str] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for k in range(total):
        queue.put_nowait(ROUTES[k % len(ROUTES)])

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            path = queue.get_nowait()
            started = time.perf_counter()
            try:
                response = await client.get(base + path)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code >= 500:
                    failures.append(f"{response.status_code} {path}")
            except httpx.HTTPError as exc:
                failures.append(f"{type(exc).__name__} {path}")
            latencies.append(time.perf_counter() - started)
            per_route.setdefault(path, []).append(latencies[-1] * 1000)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ms = np.asarray(latencies) * 1000
    return {"concurrency": concurrency, "requests": total, "seconds": round(elapsed, 2),
            "throughput_rps": round(total / elapsed, 1), "errors": len(failures), "error_examples": failures[:5],
            "status_counts": {str(k): v for k, v in sorted(statuses.items())},
            "latency_ms": {name: round(float(np.percentile(ms, q)), 2)
                           for name, q in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))},
            "route_p50_ms": {path: round(float(np.median(values)), 2) for path, values in per_route.items()}}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--base", help="load a server already running there instead of starting the local run")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    def run_levels(base: str) -> list[dict]:
        asyncio.run(load(base, 200, 8))                          # warm every route's cache first
        return [asyncio.run(load(base, args.requests, c)) for c in args.concurrency]

    if args.base:
        levels = run_levels(args.base.rstrip("/"))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            server, base = start_local_run(Path(tmp))
            try:
                levels = run_levels(base)
            finally:
                server.terminate()
                server.wait(timeout=30)
    result = {"routes": ROUTES, "levels": levels, "server": "one uvicorn process (the local run)",
              "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
              "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1))
    for level in levels:
        print(f"{level['concurrency']:3d} connections: {level['requests']} requests in {level['seconds']} s "
              f"({level['throughput_rps']}/s), errors {level['errors']}, p50 {level['latency_ms']['p50']} ms, "
              f"p99 {level['latency_ms']['p99']} ms")
    print(f"wrote {args.output}")
    return 0 if all(level["errors"] == 0 for level in levels) else 1


if __name__ == "__main__":
    sys.exit(main())
