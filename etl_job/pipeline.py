"""The ETL run: read, clean, score, slice, train, publish a release.

`_run_etl` lists the stages in order: read and clean the catalogs, validate the ratings, clean the movies
catalog, guard against the live release (nothing is written before), write the data and slices, the similar
titles, the data report, train, the movies' objects, the cards and reports, publish.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from streamlens.config import Settings
from streamlens.layout import (
    DATA_REPORTS,
    MODEL_REPORT,
    MOVIE_SIMILAR_BUNDLE,
    MOVIES_TABLE,
    QUALITY_REPORT,
    RATINGS_SMALL_MODEL_CARD,
    RATINGS_TABLE,
    RECOMMENDER_BUNDLE,
    RECOMMENDER_MODEL,
    RECOMMENDER_MODEL_CARD,
    SCORES_TABLE,
    SIMILAR_BUNDLE,
    SIMILAR_MODEL_CARD,
    TITLE_INDEX,
    TITLES_TABLE,
    rejects_report,
    slice_object_name,
)
from streamlens.platforms import BY_CODE
from streamlens.recommend import build_bundle
from streamlens.release import ReleaseWriter, prune_releases
from streamlens.storage import ObjectStore

from .catalog import InputError, clean_catalogs, read_input_csv
from .csv_input import record_taken_out
from .data_report import movies_report, streaming_report
from .lock import LockLost, etl_lock
from .model_report import model_report
from .movie_slices import build_movie_slices, movie_examples
from .movies import clean_movies, movie_ratings
from .options import EtlOptions, check_engine
from .progress import Progress
from .quality import QualityReport
from .ranker import train_ranker
from .ratings import clean_movielens_ratings, clean_ratings, read_ratings_csv, title_scores
from .release_guard import catalog_counts, check_release
from .sample_data import generate_ratings
from .similar_catalogs import movies_similar, streaming_similar
from .similar_titles import Neighbours
from .slices import build_slices, title_index
from .sources import CATALOG_DIR, MOVIES_DIR, DataSource
from .stage import read_stage
from .training import REFERENCE_CONFIG, TrainConfig, TrainedModels, config_for, train_recommender


def to_parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, compression="zstd")
    return buffer.getvalue()


def read_catalog_frames(source: DataSource) -> dict[str, pd.DataFrame]:
    """The raw catalogs by platform code; rows that are not UTF-8 are out of them, in their attrs."""
    return {code: read_input_csv(data, f"{CATALOG_DIR}/{BY_CODE[code].filename}")
            for code, data in source.catalogs().items()}


def clean_catalog_files(source: DataSource, report: QualityReport) -> pd.DataFrame:
    """The catalogs read and cleaned; their rows that are not UTF-8 become `not_utf8` rejects of their
    platform, counted in (recorded after the cleaning, which sets rows_in)."""
    raw = read_catalog_frames(source)
    titles = clean_catalogs(raw, report)
    for code, frame in raw.items():
        record_taken_out(report, BY_CODE[code].name, frame, rows_in=BY_CODE[code].name)
    return titles


def ratings_frames(source: DataSource, titles: pd.DataFrame, options: EtlOptions, report: QualityReport):
    """The ratings files one at a time, or generated ratings when the data folder has none."""
    if source.ratings_files():
        frames = (read_ratings_csv(data, name) for name, data in source.iter_ratings())
        return frames, {"origin": "files", "files": source.ratings_files()}
    generated = generate_ratings(titles, options.sample_ratings, options.sample_users, seed=options.seed)
    generated = generated.assign(movieId=generated["movieId"].astype("category"))
    generated.attrs["source"] = "generated"
    report.notes.append(f"no ratings files in {source.location}: {len(generated):,} ratings "
                        f"were generated (seed {options.seed})")
    return [generated], {"origin": "generated", "rows": len(generated), "users": options.sample_users,
                         "seed": options.seed}


@dataclass
class Cleaned:
    """A catalog as cleaned, and the report of its cleaning."""
    frame: pd.DataFrame
    report: QualityReport


@dataclass
class ValidRatings:
    ratings: pd.DataFrame     # user, item (the title's position in the catalog), rating, timestamp
    scores: pd.DataFrame      # per title: score, rating_count
    report: QualityReport
    origin: dict              # where they came from: the files, or generated (rows, users, seed)
    spark: Any = None         # engine spark: the same clean ratings as a Spark DataFrame (the training input)
    models: TrainedModels | None = None   # fitted by the Spark job and staged with the ratings: not trained again


def train_models(titles: pd.DataFrame, valid: ValidRatings, config: TrainConfig, neighbours: Neighbours,
                 say: Progress) -> TrainedModels:
    """Train the rating predictor and the ranking model: with Spark MLlib when the ratings are a Spark
    DataFrame too (engine spark: etl_job/spark/training.py), else surprise's SVD and etl_job/ranker.py."""
    ratings = valid.ratings
    ids = titles["id"].to_numpy()
    users, items, values = (ratings[c].to_numpy() for c in ("user", "item", "rating"))
    if valid.spark is not None:
        from .spark.training import train_with_spark

        result, ranked = train_with_spark(valid.spark, users, items, values, len(titles), config, tie_key=ids,
                                          groups=titles["platform"].astype(str).to_numpy(),
                                          neighbours=neighbours.index, similarity=neighbours.score,
                                          progress=say.scoped("training: "), item_ids=ids)
    else:
        frame = pd.DataFrame({"user": users, "item": ids[items], "rating": values})
        result = train_recommender(frame, config, progress=say.scoped("training: "))
        del frame
        ranked = train_ranker(users, items, values, len(titles),
                              replace(config.ranking, threshold=config.recommend_threshold,
                                      svd_params=result.card["chosen"]["params"]),
                              tie_key=ids, groups=titles["platform"].astype(str).to_numpy(),
                              neighbours=neighbours.index, similarity=neighbours.score,
                              progress=say.scoped("training: "))
    if result.model is None:
        raise ValueError("a release's recommender needs the predictor's final fit (config.final_fit)")
    assert ranked.model is not None      # train_ranker's final fit is on by default
    card = {**result.card, "ratings_engine": "pandas" if valid.spark is None else "spark", "ranking": ranked.card}
    return TrainedModels(result.model, ranked.model, card)


def _train_and_write(writer: ReleaseWriter, titles: pd.DataFrame, valid: ValidRatings, config: TrainConfig,
                     neighbours: Neighbours, say: Progress) -> tuple[dict[str, Any], dict]:
    """Train both models (or take the ones the Spark job staged), then write them, their card and the
    recommender's serving bundle; returns (summary, card)."""
    models = valid.models or train_models(titles, valid, config, neighbours, say)
    ratings, scores = valid.ratings, valid.scores
    users, items, values = (ratings[c].to_numpy() for c in ("user", "item", "rating"))
    card = {**models.card, "release_id": writer.release_id, "data": "streaming ratings",
            "ratings_origin": valid.origin}
    writer.put(RECOMMENDER_MODEL, models.predictor.to_npz())
    writer.put(RECOMMENDER_MODEL_CARD, json.dumps(card, indent=1, default=str).encode(), "application/json")
    writer.put(RECOMMENDER_BUNDLE, build_bundle(
        titles["id"].to_numpy(), titles["title"].to_numpy(), titles["platform"].astype(str).to_numpy(),
        titles["type"].astype(str).to_numpy(), titles["maturity"].astype(str).to_numpy(),
        titles["release_year"].to_numpy(), scores["score"].to_numpy(), scores["rating_count"].to_numpy(),
        models.predictor, models.ranking, users, items, values,
        display_titles=titles["display_title"].to_numpy()))
    chosen = card["chosen"]["name"]
    info = {"trained": True, "chosen": chosen, "rmse": card["candidates"][chosen]["rmse"],
            "ranking": card["ranking"]["chosen"],
            "ranking_precision_at_10": card["ranking"]["evaluation"]["all"]["ranking_model"]["precision"]}
    say("model trained", seconds=card["train_seconds"], **info)
    return info, card


@dataclass
class MoviesResult:
    similar_card: dict
    examples: dict[str, str]              # a value each movies query answers, for the web forms (/catalog)
    reports: dict[str, QualityReport]     # movies, and ratings_small (its validation) when the folder has it
    cards: dict[str, dict]                # ratings_small: the reference run's model card, when trained


def _clean_movies(source: DataSource) -> tuple[pd.DataFrame, QualityReport] | None:
    """The cleaned movies catalog and its report, when the data folder has one."""
    files = source.movies()
    if files is None:
        return None
    report = QualityReport("movies")
    meta, credits = (read_input_csv(data, f"{MOVIES_DIR}/{name}") if data is not None else None
                     for data, name in zip(files, ("movies_metadata.csv", "credits.csv")))
    movies = clean_movies(meta, credits, report)
    for frame, group in ((meta, "movies"), (credits, "credits")):   # after the cleaning, which sets rows_in
        if frame is not None:
            record_taken_out(report, group, frame, rows_in=group)
    return movies, report


def _write_movies(source: DataSource, movies: pd.DataFrame, report: QualityReport, writer: ReleaseWriter,
                  options: EtlOptions, config: TrainConfig, say: Progress) -> MoviesResult:
    """The movies catalog's release objects: data/movies.parquet, its query slices, its similar movies and
    its data report; with training on, the recommender's reference run on ratings_small.csv."""
    writer.put(MOVIES_TABLE, to_parquet(movies))
    slices = build_movie_slices(movies)
    for query, content in slices.items():
        writer.put_json(slice_object_name(query), content)

    ratings, ratings_info = None, {"origin": "none: the data folder has no movies/ratings_small.csv and links.csv"}
    small, small_report = None, QualityReport("ratings_small")
    if (rating_files := source.movie_ratings()) is not None:
        small = clean_movielens_ratings(rating_files[0], f"{MOVIES_DIR}/ratings_small.csv", small_report)
        say("ratings_small validated", rows_in=small_report.rows_in.get("ratings", 0), rows_out=len(small),
            rejected=small_report.total_rejected)
        ratings, ratings_info = movie_ratings(small, rating_files[1], movies["id"].to_numpy())
        ratings_info["origin"] = "movies/ratings_small.csv via links.csv tmdbId"
    bundle, section = movies_similar(movies, ratings, ratings_info)
    writer.put(MOVIE_SIMILAR_BUNDLE, bundle)
    say("similar movies", seconds=section["build_seconds"], features=section["features"])
    writer.put(DATA_REPORTS["movies"], movies_report(movies, report.to_dict(), ratings), "text/html")
    say("movies data report")
    reference = None
    if options.train and small is not None and len(small):
        raw = small[["userId", "movieId", "rating"]]
        result = train_recommender(raw.set_axis(["user", "item", "rating"], axis=1),
                                   replace(REFERENCE_CONFIG, recommend_threshold=config.recommend_threshold),
                                   progress=say.scoped("ratings_small: "))
        items, movie_ids = pd.factorize(raw["movieId"])
        ranked = train_ranker(raw["userId"].to_numpy(), items, raw["rating"].to_numpy(), len(movie_ids),
                              replace(config.ranking, threshold=config.recommend_threshold,
                                      svd_params=result.card["chosen"]["params"]),
                              tie_key=movie_ids.astype(str).to_numpy(), final_fit=False,
                              progress=say.scoped("ratings_small: "))
        reference = {**result.card, "ranking": ranked.card,
                     "data": "movies/ratings_small.csv (real MovieLens ratings, all of them)"}
        writer.put(RATINGS_SMALL_MODEL_CARD, json.dumps(reference, indent=1, default=str).encode(),
                   "application/json")
    reports = {"movies": report, **({"ratings_small": small_report} if small is not None else {})}
    return MoviesResult(section, movie_examples(movies, slices), reports,
                        {"ratings_small": reference} if reference else {})


def run_etl(source: DataSource, store: ObjectStore, settings: Settings,
            options: EtlOptions | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Build and publish one release; the live manifest is written last. One run at a time: a second
    run while one holds the lock raises EtlLocked; an engine that cannot run here raises InputError first."""
    check_engine((options or EtlOptions()).engine)
    with etl_lock(store, settings) as lock:
        return _run_etl(source, store, settings, options, progress, lock)


def _run_etl(source: DataSource, store: ObjectStore, settings: Settings,
             options: EtlOptions | None, progress: Progress | None, lock: dict) -> dict[str, Any]:
    """The stages of a run, in order. Nothing is written before the guard; from there on, the order of the
    stages is the order of the release's writes (tests/integration/test_etl_faults.py stops a run between any two)."""
    options = options or EtlOptions()
    say = progress or Progress()
    catalogs = _read_catalogs(source, say)
    valid = _validate_ratings(source, catalogs.frame, options, store, settings.recommend_threshold, say)
    config = replace(options.train_config or config_for(len(valid.ratings)),
                     recommend_threshold=settings.recommend_threshold)
    movies = _read_movies(source, say)
    counts, accepted = _guard_live_release(store, settings, catalogs, movies, options.accept_shrink)

    writer = ReleaseWriter(store, settings)
    _write_data_and_slices(writer, catalogs.frame, valid, say)
    similar_card, neighbours = _write_similar_titles(writer, catalogs.frame, valid.scores, say)
    _write_data_report(writer, catalogs, valid, say)
    model_info, cards = {"trained": False}, {}
    if options.train:
        model_info, cards["streaming"] = _train_and_write(writer, catalogs.frame, valid, config, neighbours, say)
    del neighbours
    reports = {"catalogs": catalogs.report, "ratings": valid.report}
    examples: dict[str, str] = {}
    if movies is not None:
        done = _write_movies(source, movies.frame, movies.report, writer, options, config, say)
        del movies
        similar_card["movies"] = done.similar_card
        examples = done.examples
        reports.update(done.reports)
        cards.update(done.cards)
    # After the movies: the title index also carries their examples, for the web forms (/catalog).
    writer.put_json(TITLE_INDEX, title_index(catalogs.frame, valid.scores, examples))
    _write_cards_and_reports(writer, reports, cards, similar_card, say)
    manifest, pruned = _publish(writer, store, settings, lock, source.checksums, say, {
        "ratings": valid.origin, "model": model_info,
        "counts": {"titles": len(catalogs.frame), "ratings": len(valid.ratings),
                   "catalog_rejects": catalogs.report.total_rejected, "ratings_rejects": valid.report.total_rejected,
                   "movies": reports["movies"].rows_out.get("movies", 0) if "movies" in reports else 0,
                   "catalogs": counts},
        **({"accepted_shrink": accepted} if accepted else {}),
    })

    print("data quality: " + "; ".join(report.headline() for report in reports.values())
          + f" (every repair and reject: {QUALITY_REPORT} and the rejects reports of release {writer.release_id})")
    return {
        "release_id": writer.release_id,
        "objects": len(manifest["objects"]),
        "bytes": sum(o["size"] for o in manifest["objects"].values()),
        "pruned": pruned,
        "timings": dict(say.timings),
        "report_seconds": round(sum(v for k, v in say.timings.items() if k.endswith("report")), 2),
        "elapsed_seconds": say.elapsed,
        "counts": manifest["counts"],
        "model": model_info,
    }


def _read_catalogs(source: DataSource, say: Progress) -> Cleaned:
    report = QualityReport("catalogs")
    titles = clean_catalog_files(source, report)
    say("catalogs cleaned", rows_in=report.total_in, rows_out=len(titles), rejected=report.total_rejected)
    return Cleaned(titles, report)


def _validate_ratings(source: DataSource, titles: pd.DataFrame, options: EtlOptions, store: ObjectStore,
                      threshold: float, say: Progress) -> ValidRatings:
    """The ratings cleaned against the catalog, and each title's score (or, with options.ratings_stage, what
    the Spark job staged: etl_job/stage.py, with its models when the run trains, if they were trained with
    threshold as the liked rating). No valid rating at all refuses the run before anything is written: the
    live release stays."""
    spark_ratings, scores, models = None, None, None
    if options.ratings_stage is not None:
        stage = read_stage(store, options.ratings_stage, titles["id"], threshold, with_models=options.train)
        ratings, scores, report, origin, models = stage.ratings, stage.scores, stage.report, stage.origin, stage.models
        source.checksums.update(stage.checksums)
    else:
        report = QualityReport("ratings")
        frames, origin = ratings_frames(source, titles, options, report)
        if options.engine == "spark":
            from .spark.ratings import validate_with_spark  # pyspark is imported only where the engine is chosen

            spark_ratings = validate_with_spark(source, None if origin["origin"] == "files" else frames[0],
                                                titles["id"], report)
            ratings, scores = spark_ratings.to_pandas(), spark_ratings.scores
        else:
            ratings = clean_ratings(frames, titles["id"], report)
        del frames
    if len(ratings) == 0:
        reasons = {reason: n for per in report.rejects.values() for reason, n in per.items()}
        raise InputError(f"no valid ratings: {report.rows_in.get('ratings', 0):,} rows read in "
                         f"{', '.join(source.ratings_files()) or 'the ratings'}, none usable "
                         f"(rejects by reason: {reasons or 'none: the files hold only a header'}); "
                         "fix the ratings export, or remove the ratings folder to publish generated ratings")
    if scores is None:
        scores = title_scores(ratings, titles["id"])
    say("ratings validated", rows_in=report.rows_in["ratings"], rows_out=len(ratings),
        rejected=report.total_rejected, scored_titles=int((scores["rating_count"] > 0).sum()),
        origin=origin["origin"])
    return ValidRatings(ratings, scores, report, origin, None if spark_ratings is None else spark_ratings.clean,
                        models)


def _read_movies(source: DataSource, say: Progress) -> Cleaned | None:
    """The movies catalog cleaned, when the data folder has one."""
    cleaned = _clean_movies(source)
    if cleaned is None:
        return None
    movies, report = cleaned
    say("movies cleaned", rows_in=report.rows_in["movies"], rows_out=len(movies), rejected=report.total_rejected)
    return Cleaned(movies, report)


def _guard_live_release(store: ObjectStore, settings: Settings, catalogs: Cleaned, movies: Cleaned | None,
                        accept_shrink: bool) -> tuple[dict[str, int], list[str]]:
    """Refuse the run, before anything is written, when a platform disappears or a catalog shrinks too much
    against the live release (etl_job/release_guard.py); returns the catalogs' counts and the accepted shrink."""
    counts = catalog_counts(catalogs.frame, movies.frame if movies is not None else None)
    reports = {"catalogs": catalogs.report, **({"movies": movies.report} if movies is not None else {})}
    return counts, check_release(store, settings, counts, accept_shrink, reports)


def _write_data_and_slices(writer: ReleaseWriter, titles: pd.DataFrame, valid: ValidRatings, say: Progress) -> None:
    """The cleaned data as parquet, and the streaming queries' slices."""
    ratings, scores = valid.ratings, valid.scores
    movie_ids = pd.Categorical.from_codes(ratings["item"].to_numpy(), categories=titles["id"])
    writer.put(TITLES_TABLE, to_parquet(titles))
    writer.put(SCORES_TABLE, to_parquet(scores))
    writer.put(RATINGS_TABLE, to_parquet(pd.DataFrame({
        "userId": ratings["user"].to_numpy(), "movieId": movie_ids,
        "rating": ratings["rating"].to_numpy(), "timestamp": ratings["timestamp"].to_numpy()})))
    for query, content in build_slices(titles, scores).items():
        writer.put_json(slice_object_name(query), content)
    say("data and slices written", objects=len(writer.objects))


def _write_similar_titles(writer: ReleaseWriter, titles: pd.DataFrame, scores: pd.DataFrame,
                          say: Progress) -> tuple[dict, Neighbours]:
    """The similar titles' serving bundle; returns the similar model card (so far) and the neighbours, which
    give titles nobody rated their ranking factors."""
    bundle, card, neighbours = streaming_similar(titles, scores, say)
    writer.put(SIMILAR_BUNDLE, bundle)
    similar_card = {"release_id": writer.release_id, "streaming": card}
    say("similar titles", seconds=card["build_seconds"], features=card["features"])
    return similar_card, neighbours


def _write_data_report(writer: ReleaseWriter, catalogs: Cleaned, valid: ValidRatings, say: Progress) -> None:
    writer.put(DATA_REPORTS["streaming"], streaming_report(catalogs.frame, valid.scores, valid.ratings,
                                                           catalogs.report.to_dict(), valid.origin["origin"]),
               "text/html")
    say("streaming data report")


def _write_cards_and_reports(writer: ReleaseWriter, reports: dict[str, QualityReport], cards: dict[str, dict],
                             similar_card: dict, say: Progress) -> None:
    """The similar model card, the model report, the quality report and every group's rejects."""
    writer.put(SIMILAR_MODEL_CARD, json.dumps(similar_card, indent=1, default=str).encode(), "application/json")
    writer.put(MODEL_REPORT, model_report(cards, similar_card), "text/html")
    say("model report")
    quality = {name: report.to_dict() for name, report in reports.items()}
    writer.put(QUALITY_REPORT, json.dumps(quality, indent=1, default=str).encode(), "application/json")
    for name, report in reports.items():
        writer.put(rejects_report(name), report.rejects_csv(), "text/csv")


def _publish(writer: ReleaseWriter, store: ObjectStore, settings: Settings, lock: dict, inputs: dict,
             say: Progress, extra: dict) -> tuple[dict, list]:
    """The release's manifest, then the live one, unless another run took the lock over; then old releases
    are pruned. Returns (the manifest, the pruned release ids)."""
    if lock.get("lost"):   # another run took the lock over while this one ran: it must not publish
        raise LockLost(f"run {lock['run']} lost the ETL lock to another run before publishing; "
                       "its objects stay unreferenced and are pruned later")
    manifest = writer.publish(inputs=inputs, extra=extra)
    pruned = prune_releases(store, settings)
    say("release published", release=writer.release_id, objects=len(manifest["objects"]), pruned=len(pruned))
    return manifest, pruned
