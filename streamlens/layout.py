"""The release layout: the name of every object the ETL writes and the functions read, and which function
reads which. The one place these names are written: the ETL (etl_job.pipeline, .lock, .release_guard), the
release protocol (streamlens.release), the functions (streamlens.query_function loads what `READS` names)
and the stack's read grants (infra/data_api.py) all take them from here.

Under the configured prefix (STREAMLENS_PREFIX; none in AWS):

    manifest.json                  MANIFEST      the live manifest, written last of all (streamlens.release)
    releases/<release_id>/...      RELEASES      every object of one release, and its own manifest.json
    locks/etl.json                 ETL_LOCK      one ETL run at a time (etl_job.lock)
    refused-run.json               REFUSED_RUN   why the last refused run was refused (etl_job.release_guard)

Inside a release (names relative to releases/<release_id>/):

    data/{titles,scores,ratings,movies}.parquet     the cleaned tables (for analysis; no function reads them)
    slices/<query>/slice.json                       one JSON slice per query (slice_object_name)
    slices/titles/slice.json                        the title index (TITLE_INDEX)
    slices/recommender/bundle.npz                   the recommender's titles, users and ranking arrays
    slices/similar/neighbours.npz                   similar titles, the streaming catalog
    slices/recomendacion/neighbours.npz             similar movies, the movies catalog
    models/recommender/model.npz                    the SVD's factors
    models/*/model_card.json                        how each model was chosen and how well it does
    reports/*                                       data and model reports, quality.json, rejects CSVs

Each function's objects sit under a prefix of their own, so a read grant names exactly them.
"""

from __future__ import annotations

import re
from functools import cache

# -- beside the releases, under the prefix ------------------------------------------------------------------
MANIFEST = "manifest.json"                 # the live one; each release also holds its own under this name
RELEASES = "releases/"
ETL_LOCK = "locks/etl.json"
REFUSED_RUN = "refused-run.json"

# -- the cleaned tables ---------------------------------------------------------------------------------------
TITLES_TABLE = "data/titles.parquet"
SCORES_TABLE = "data/scores.parquet"
RATINGS_TABLE = "data/ratings.parquet"
MOVIES_TABLE = "data/movies.parquet"

# -- the query slices -----------------------------------------------------------------------------------------
STREAMING_QUERIES = ("get_max_duration", "get_score_count", "get_count_platform", "get_actor")   # etl_job.slices
MOVIE_QUERIES = ("peliculas_idioma", "peliculas_duracion", "franquicia", "peliculas_pais",        # etl_job.movie_slices
                 "productoras_exitosas", "get_director")


def slice_object_name(query: str) -> str:
    """Name of a query's slice inside a release (its own prefix, for per-function read grants)."""
    return f"slices/{query}/slice.json"


TITLE_INDEX = slice_object_name("titles")

# Inside a slice, keys join the filters with '|'; ANY stands for an absent filter.
ANY = "*"


def slice_key(*parts) -> str:
    """('netflix', 2020, 'min') -> 'netflix|2020|min'."""
    return "|".join(str(p) for p in parts)


# -- models and their bundles ---------------------------------------------------------------------------------
RECOMMENDER_MODEL = "models/recommender/model.npz"
RECOMMENDER_MODEL_CARD = "models/recommender/model_card.json"
RECOMMENDER_BUNDLE = "slices/recommender/bundle.npz"
SIMILAR_BUNDLE = "slices/similar/neighbours.npz"                  # the streaming catalog
MOVIE_SIMILAR_BUNDLE = "slices/recomendacion/neighbours.npz"      # the movies catalog
SIMILAR_MODEL_CARD = "models/similar/model_card.json"
RATINGS_SMALL_MODEL_CARD = "models/ratings_small/model_card.json"

# -- reports --------------------------------------------------------------------------------------------------
REPORTS_PREFIX = "reports/"
DATA_REPORTS = {"streaming": "reports/data_streaming.html", "movies": "reports/data_movies.html"}
MODEL_REPORT = "reports/model.html"
QUALITY_REPORT = "reports/quality.json"


def rejects_report(source: str) -> str:
    """The rejected rows of one input (a catalog, the ratings, the movies) as CSV."""
    return f"{REPORTS_PREFIX}rejects_{source}.csv"


# -- which function reads what --------------------------------------------------------------------------------
# Function (functions/<name>/) -> the objects of the live release it reads, besides the live manifest that
# every function reading anything reads. A name is an object a function loads whole on a new release
# (streamlens.query_function); a name with '*' (IAM's wildcard: any characters, '/' included) is a family it
# reads on demand. The stack grants each function s3:GetObject on exactly these under releases/*/ and on the
# live manifest (infra/data_api.py); tests/integration/test_query_function.py checks the handlers read nothing else.
READS: dict[str, tuple[str, ...]] = {
    **{query: (slice_object_name(query),) for query in (*STREAMING_QUERIES, *MOVIE_QUERIES)},
    "recommender": (RECOMMENDER_MODEL, RECOMMENDER_BUNDLE),
    "recomendacion": (MOVIE_SIMILAR_BUNDLE,),
    "similar": (SIMILAR_BUNDLE,),
    "titles": (TITLE_INDEX,),
    "reports": (REPORTS_PREFIX + "*",),
    "docs": (),                 # the OpenAPI document and /docs: no data
}


def loaded_objects(function: str) -> tuple[str, ...]:
    """The objects a function loads whole on each new release: its READS without wildcards, in order."""
    return tuple(name for name in READS[function] if "*" not in name)


@cache
def _pattern(grant: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in grant.split("*")), re.S)


def grant_matches(grant: str, name: str) -> bool:
    """Whether an IAM resource pattern ('*' matches any characters, '/' included) covers `name`."""
    return _pattern(grant).fullmatch(name) is not None


def may_read(function: str, object_name: str) -> bool:
    """Whether `function` is granted the release object `object_name`."""
    return any(grant_matches(grant, object_name) for grant in READS[function])
