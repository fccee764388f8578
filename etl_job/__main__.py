"""Command line: python -m etl_job {run,task,sample,releases,rollback}. The local run (embedded S3, a release, the
local server) is the local_run package: python -m local_run, or make run."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from botocore.exceptions import EndpointConnectionError

from streamlens.config import get_settings
from streamlens.release import ReleaseNotFound, list_releases, read_manifest, rollback
from streamlens.storage import ObjectStore

from .aws_task import EVENT_VARIABLE, event_from_environment, run_event
from .catalog import InputError, clean_catalogs
from .lock import EtlLocked
from .options import ENGINES, EtlOptions
from .quality import QualityReport
from .sample_data import generate_ratings, write_ratings, write_sample_catalogs
from .sample_movies import write_sample_movies
from .sources import CATALOG_DIR, MOVIES_DIR, RATINGS_DIR, DataSource

DEFAULT_SAMPLE_DIR = Path(".local/sample-data")


def ensure_sample_data(folder: Path) -> Path:
    """Small raw catalogs (with every defect) for machines with no data folder."""
    if not (folder / CATALOG_DIR).is_dir():
        write_sample_catalogs(folder / CATALOG_DIR)
        print(f"wrote a sample catalog to {folder / CATALOG_DIR}", file=sys.stderr)
    if not (folder / MOVIES_DIR).is_dir():
        write_sample_movies(folder / MOVIES_DIR)
        print(f"wrote a sample movies catalog to {folder / MOVIES_DIR}", file=sys.stderr)
    return folder


def data_location(explicit: str | None) -> str:
    location = explicit or get_settings().data_dir
    return location or str(ensure_sample_data(DEFAULT_SAMPLE_DIR))


def add_etl_flags(parser: argparse.ArgumentParser) -> None:
    """The flags of a run of the ETL (here `run`; the local run, local_run, takes them too)."""
    parser.add_argument("--data-dir", help="data folder or s3:// prefix (default: $STREAMLENS_DATA_DIR, "
                                           f"else a generated sample in {DEFAULT_SAMPLE_DIR})")
    parser.add_argument("--skip-training", action="store_true", help="publish without training a model")
    parser.add_argument("--sample-ratings", type=int, default=200_000,
                        help="ratings to generate when the data folder has none")
    parser.add_argument("--sample-users", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--accept-shrink", action="store_true",
                        help="publish even if a catalog disappears or loses more than STREAMLENS_MAX_CATALOG_SHRINK "
                             "(20%% by default) of the live release's titles")
    parser.add_argument("--engine", choices=ENGINES, default="pandas",
                        help="where the ratings stages and the training run: pandas (default, one process) or spark "
                             "(Apache Spark: pip install -r requirements-spark.txt and a Java 17 runtime)")


def etl_options(args) -> EtlOptions:
    return EtlOptions(train=not args.skip_training, sample_ratings=args.sample_ratings,
                      sample_users=args.sample_users, seed=args.seed, accept_shrink=args.accept_shrink,
                      engine=args.engine)


def publish(source: DataSource, store: ObjectStore, settings, options: EtlOptions) -> None:
    from .pipeline import run_etl  # the stages' libraries load when a run starts (etl_job/options.py)

    print(json.dumps(run_etl(source, store, settings, options), indent=1, default=str))


def cmd_run(args) -> int:
    settings = get_settings()
    store = ObjectStore.from_settings(settings)
    store.ensure_bucket()
    publish(DataSource(data_location(args.data_dir)), store, settings, etl_options(args))
    return 0


def cmd_task(args) -> int:
    print(json.dumps(run_event(event_from_environment()), indent=1, default=str))
    return 0


def cmd_sample(args) -> int:
    out = Path(args.out)
    catalogs = out / CATALOG_DIR
    if args.catalogs or not catalogs.is_dir():
        write_sample_catalogs(catalogs, titles_per_platform=args.titles_per_platform, seed=args.seed)
    from .pipeline import read_catalog_frames

    titles = clean_catalogs(read_catalog_frames(DataSource(str(out))), QualityReport("catalogs"))
    if args.movies:
        write_sample_movies(out / MOVIES_DIR, n_movies=args.movies, seed=args.seed)
    ratings = generate_ratings(titles, args.ratings, args.users, seed=args.seed)
    paths = write_ratings(ratings, out / RATINGS_DIR, rows_per_file=args.rows_per_file)
    print(f"wrote {len(ratings):,} ratings from {ratings['userId'].nunique():,} users "
          f"for {len(titles):,} titles in {len(paths)} file(s) under {out / RATINGS_DIR}")
    return 0


def cmd_releases(args) -> int:
    settings = get_settings()
    store = ObjectStore.from_settings(settings)
    try:
        live = read_manifest(store, settings)["release_id"]
    except ReleaseNotFound:
        live = None
    for release in list_releases(store, settings):
        flag = "live" if release["release_id"] == live else ("complete" if release["complete"] else "incomplete")
        print(f"{release['release_id']}  {flag:10s} {release['objects']} objects")
    return 0


def cmd_rollback(args) -> int:
    settings = get_settings()
    manifest = rollback(ObjectStore.from_settings(settings), settings, args.release_id)
    print(f"release {manifest['release_id']} (created {manifest['created']}) is live again")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m etl_job", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="build and publish a release")
    add_etl_flags(run)
    run.set_defaults(func=cmd_run)

    task = sub.add_parser("task", help=f"run as the AWS task does: options from the JSON object in ${EVENT_VARIABLE} "
                                       "(data, skip_training, accept_shrink), the rest from the environment")
    task.set_defaults(func=cmd_task)

    sample = sub.add_parser("sample", help="write generated ratings (and a sample catalog if none)")
    sample.add_argument("--out", required=True, help="data folder to write into")
    sample.add_argument("--ratings", type=int, default=200_000)
    sample.add_argument("--users", type=int, default=5_000)
    sample.add_argument("--rows-per-file", type=int, default=2_000_000)
    sample.add_argument("--titles-per-platform", type=int, default=300)
    sample.add_argument("--catalogs", action="store_true", help="(re)write the sample catalog too")
    sample.add_argument("--movies", type=int, default=0, help="also write a raw movies catalog of this many movies")
    sample.add_argument("--seed", type=int, default=42)
    sample.set_defaults(func=cmd_sample)

    releases = sub.add_parser("releases", help="list releases and which one is live")
    releases.set_defaults(func=cmd_releases)
    back = sub.add_parser("rollback", help="make an older complete release live again")
    back.add_argument("release_id")
    back.set_defaults(func=cmd_rollback)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)


def no_s3_message(url: str) -> str:
    """Why a command could not reach its S3, and what to do: usually the local run's embedded S3 is not up."""
    endpoint = get_settings().s3_endpoint
    if endpoint:
        return (f"no S3 answers at {endpoint} ({url}). The embedded S3 runs while the local run does: start "
                f"`make run` (or `python -m local_run`) in another terminal and run this command again; to use "
                f"AWS instead, set STREAMLENS_S3_ENDPOINT= (empty) and STREAMLENS_BUCKET")
    return f"S3 could not be reached ({url}): check the network and the AWS region"


def run_command(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """Parse, run the chosen command, and turn the errors a user can fix into a message and an exit code
    (2: bad input, no release or no S3 to reach; 3: another ETL run holds the lock)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("matplotlib").setLevel(logging.WARNING)    # its INFO lines are about its own choices
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (InputError, ReleaseNotFound) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except EtlLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except EndpointConnectionError as exc:
        print(f"error: {no_s3_message(exc.kwargs.get('endpoint_url', ''))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
