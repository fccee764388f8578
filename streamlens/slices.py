"""Object names shared by the ETL (writer) and the functions (readers): query slices, models, reports."""

from __future__ import annotations

ANY = "*"
QUERY_SLICES = ("get_max_duration", "get_score_count", "get_count_platform", "get_actor")


def slice_key(*parts) -> str:
    """('netflix', 2020, 'min') -> 'netflix|2020|min'; ANY stands for an absent filter."""
    return "|".join(str(p) for p in parts)


def slice_object_name(query: str) -> str:
    """Name of a query's slice inside a release (its own prefix, for per-function read grants)."""
    return f"slices/{query}/slice.json"


RECOMMENDER_MODEL = "models/recommender/model.npz"
RECOMMENDER_MODEL_CARD = "models/recommender/model_card.json"
RECOMMENDER_BUNDLE = "slices/recommender/bundle.npz"
SIMILAR_BUNDLE = "slices/similar/neighbours.npz"                  # the streaming catalog
MOVIE_SIMILAR_BUNDLE = "slices/recomendacion/neighbours.npz"      # the movies catalog
SIMILAR_MODEL_CARD = "models/similar/model_card.json"
REPORTS_PREFIX = "reports/"
DATA_REPORTS = {"streaming": "reports/data_streaming.html", "movies": "reports/data_movies.html"}
MODEL_REPORT = "reports/model.html"
RATINGS_SMALL_MODEL_CARD = "models/ratings_small/model_card.json"
