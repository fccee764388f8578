"""Offline evaluation of the similar titles, for the model card.

Two kinds of evidence, each against a random and a genre-only baseline:
- content agreement: how often a title's top-n share its collection or its
  genres (the collection and genres are also features, so this shows the
  weighting keeps them, not that viewers agree);
- behaviour: in real ratings (ratings_small.csv, MovieLens users mapped to
  TMDB ids through links.csv), whether users who rated a movie highly also
  rated its neighbours, and rated them highly, more often than chance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from .similar_titles import ContentField, content_matrix, name_list, nearest_neighbours

HIGH_RATING = 4.0


def random_neighbours(n_titles: int, k: int, seed: int = 7) -> np.ndarray:
    """k other titles per title, uniformly at random (with replacement)."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n_titles - 1, size=(n_titles, k))
    picks += picks >= np.arange(n_titles)[:, None]        # skip the title itself
    return picks.astype(np.int32)


def genre_only_neighbours(frame: pd.DataFrame, genre_field: ContentField, k: int, seed: int = 7) -> np.ndarray:
    """Nearest by genres alone; the many exact ties are broken at random, not by catalog order."""
    order = np.random.default_rng(seed).permutation(len(frame))
    matrix = content_matrix(frame.iloc[order].reset_index(drop=True), [genre_field])
    found = nearest_neighbours(matrix, k)["all"].index
    result = np.full_like(found, -1)
    result[order] = np.where(found >= 0, order[np.maximum(found, 0)], -1)
    return result


def _label_sets(values: pd.Series) -> list[frozenset]:
    return [frozenset(name_list(v)) for v in values]


def share_metrics(neighbours: np.ndarray, labels: list[frozenset], n: int) -> dict[str, float | None]:
    """Over titles with labels: mean share of their top-n that share at least one label, and mean Jaccard."""
    shares, jaccards = [], []
    for k, mine in enumerate(labels):
        if not mine:
            continue
        others = [labels[j] for j in neighbours[k][:n] if j >= 0]
        if not others:
            shares.append(0.0)
            jaccards.append(0.0)
            continue
        shares.append(float(np.mean([bool(mine & o) for o in others])) * len(others) / n)
        jaccards.append(float(np.mean([len(mine & o) / len(mine | o) for o in others])) * len(others) / n)
    return {"share_any": round(float(np.mean(shares)), 4) if shares else None,
            "mean_jaccard": round(float(np.mean(jaccards)), 4) if jaccards else None, "titles": len(shares)}


def collection_share(neighbours: np.ndarray, collections: pd.Series, n: int) -> dict[str, float | None]:
    """Over movies whose collection has another movie in the catalog: mean share of the top-n in it."""
    codes = pd.factorize(collections.fillna(""))[0]
    sizes = np.bincount(codes)
    eligible = np.flatnonzero((collections.fillna("") != "").to_numpy() & (sizes[codes] > 1))
    if not len(eligible):
        return {"share": None, "movies": 0}
    top = neighbours[eligible, :n]
    same = (top >= 0) & (codes[np.maximum(top, 0)] == codes[eligible][:, None])
    return {"share": round(float(same.sum(axis=1).mean() / n), 4), "movies": len(eligible)}


def rating_agreement(neighbours: np.ndarray, ratings: pd.DataFrame, n: int) -> dict[str, float | None]:
    """ratings: user, item (catalog position), rating. Over every (user, movie rated >= HIGH_RATING,
    neighbour of that movie) triple: how often the user rated the neighbour, and rated it highly."""
    users = pd.factorize(ratings["user"])[0]
    n_titles = neighbours.shape[0]
    shape = (users.max() + 1, n_titles)
    rated = sparse.csr_matrix((np.ones(len(ratings)), (users, ratings["item"])), shape=shape)
    high_mask = ratings["rating"].to_numpy() >= HIGH_RATING
    high = sparse.csr_matrix((np.ones(int(high_mask.sum())), (users[high_mask], ratings["item"][high_mask])),
                             shape=shape)
    top = neighbours[:, :n]
    rows, cols = np.nonzero(top >= 0)
    links = sparse.csr_matrix((np.ones(len(rows)), (rows, top[rows, cols])), shape=(n_titles, n_titles))
    reached = high @ links                                   # user x neighbour: how many liked movies point there
    pairs = float(reached.sum())
    rated_pairs = reached.multiply(rated)
    liked_pairs = float(reached.multiply(high).sum())
    per_user_rated = np.asarray(rated_pairs.sum(axis=1)).ravel()
    base_rate = np.asarray(high.sum(axis=1)).ravel() / np.maximum(np.asarray(rated.sum(axis=1)).ravel(), 1)
    watched_share = np.asarray(rated.sum(axis=1)).ravel() / n_titles
    per_user_pairs = np.asarray(reached.sum(axis=1)).ravel()
    total_rated = float(per_user_rated.sum())
    return {
        "pairs": int(pairs),
        "neighbour_rated": round(total_rated / pairs, 4) if pairs else None,
        "neighbour_rated_by_chance": round(float((per_user_pairs * watched_share).sum() / pairs), 4) if pairs else None,
        "rated_neighbour_liked": round(liked_pairs / total_rated, 4) if total_rated else None,
        "liked_by_chance": round(float((per_user_rated * base_rate).sum() / total_rated), 4) if total_rated else None,
    }


def evaluate(frame: pd.DataFrame, neighbours: np.ndarray, genre_field: ContentField, n: int,
             collection_column: str | None = None, ratings: pd.DataFrame | None = None) -> dict:
    """The card's figures for the engine and both baselines."""
    systems = {"content": neighbours,
               "genre_only": genre_only_neighbours(frame, genre_field, n),
               "random": random_neighbours(len(frame), n)}
    labels = _label_sets(frame[genre_field.column])
    figures: dict[str, dict] = {}
    for name, found in systems.items():
        entry = {"genres": share_metrics(found, labels, n)}
        if collection_column:
            entry["collection"] = collection_share(found, frame[collection_column], n)
        if ratings is not None and len(ratings):
            entry["ratings"] = rating_agreement(found, ratings, n)
        figures[name] = entry
    return figures
