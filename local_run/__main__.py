"""The local run: python -m local_run (what `make run` runs).

Starts the embedded S3 (moto on $STREAMLENS_S3_ENDPOINT, 127.0.0.1:5050 by default), puts a release in it,
then serves every route and the web interface on http://127.0.0.1:8000 ($PORT). The release is the ETL's
(etl_job) on $STREAMLENS_DATA_DIR, or on a generated sample when it is unset; it is saved in
.local/s3-snapshot/, and the next run restores it instead of running the ETL again when the inputs, the
options and the ETL's code are unchanged.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import asdict
from pathlib import Path

import etl_job
import streamlens
from etl_job.__main__ import add_etl_flags, data_location, etl_options, run_command
from etl_job.catalog import InputError
from etl_job.sources import DataSource
from streamlens.config import LOCAL_S3_ENDPOINT, get_settings
from streamlens.storage import ObjectStore

from .app import serve
from .examples import example_calls, serving_banner
from .s3 import code_fingerprint, restore_snapshot, save_snapshot, start_local_s3

SNAPSHOT_DIR = Path(".local/s3-snapshot")


def put_release(args, settings, store: ObjectStore) -> None:
    """The last local release when it was built from the same inputs, options and code; else a new one."""
    source = DataSource(data_location(args.data_dir))
    options = etl_options(args)
    meta = {"inputs": source.fingerprint(),
            "code": code_fingerprint(Path(etl_job.__file__).parent, Path(streamlens.__file__).parent),
            "bucket": settings.bucket, "prefix": settings.prefix, "options": asdict(options)}
    if restore_snapshot(store, SNAPSHOT_DIR, meta):
        print(f"inputs unchanged: reusing the release saved in {SNAPSHOT_DIR}", file=sys.stderr)
    else:
        from etl_job.pipeline import run_etl  # the stages' libraries: seconds of imports a reused release skips

        summary = run_etl(source, store, settings, options)
        counts = summary["counts"]
        print(f"release {summary['release_id']} published in {summary['elapsed_seconds']:.0f} s: "
              f"{counts['titles']:,} titles, {counts['ratings']:,} ratings, {counts['movies']:,} movies",
              file=sys.stderr)
        save_snapshot(store, settings.prefix, SNAPSHOT_DIR, meta)


def local_run(args) -> int:
    """Embedded S3, then a release, then the server; the embedded S3 stops with it."""
    settings = get_settings()
    if settings.s3_endpoint is None:        # boto3's default: the AWS account's S3, which is no local run's
        raise InputError(f"the local run keeps its releases in its embedded S3: STREAMLENS_S3_ENDPOINT names it "
                         f"({LOCAL_S3_ENDPOINT} when unset) and must not be empty")
    server = start_local_s3(settings.s3_endpoint)
    print(f"embedded S3 at {settings.s3_endpoint} (bucket {settings.bucket})", file=sys.stderr)
    try:
        store = ObjectStore.from_settings(settings)
        store.ensure_bucket()
        put_release(args, settings, store)
        if not args.no_serve:
            port = int(os.environ.get("PORT", "8000"))
            base = f"http://127.0.0.1:{port}"
            serve(port, serving_banner(base, example_calls(store, settings, base)))
        return 0
    finally:
        if server:
            server.stop()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m local_run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_etl_flags(parser)
    parser.add_argument("--no-serve", action="store_true", help="stop after the release is in place")
    parser.set_defaults(func=local_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)   # the embedded S3's access log
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
