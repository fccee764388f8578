"""Content-based similar titles: TF-IDF vectors per field, weighted, and each
title's nearest neighbours by cosine, precomputed for the Lambdas.

The similarity of two titles is the weighted mean of their per-field cosines
over all the catalog's fields (a field either title lacks counts as 0, so a
sparse record is not favoured): each field's TF-IDF rows have unit length and
are scaled by the square root of the field's share of the total weight, so
the dot product of two joined rows is that mean. The fields and weights are
declared below with the reason for each.

The neighbour search never builds the N x N matrix: rows are compared in
chunks. Terms carried by many titles (a genre, a common word) make a sparse
product nearly dense and slow, so those columns are multiplied as a small dense
matrix (BLAS) and the remaining rare terms as a sparse one; the two partial
products add up to the exact similarity.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from streamlens.text import match_key

from .progress import Progress

MAX_NEIGHBOURS = 20            # stored per title (and per platform): the most a request can ask for
MAIN_CAST = 5                  # the billed stars carry the style; the long tail of a cast is noise
DENSE_DF_SHARE = 0.06          # a term in more than 6 % of the titles is multiplied densely
MAX_DENSE_COLUMNS = 1024
CHUNK_ROWS = 1024
MIN_SIMILARITY = 1e-6          # below this, two titles share nothing
SAMPLE_STRIDE = 8


@dataclass(frozen=True)
class ContentField:
    column: str
    kind: str                  # "text": words of free text; "names": whole names (one token each)
    weight: float
    why: str


MOVIE_FIELDS = (
    ContentField("overview", "text", 1.0, "the plot summary: what the movie is about, the richest signal"),
    ContentField("genres", "names", 1.0, "the kind of movie a viewer asked for; few values, so each weighs"),
    ContentField("collection", "names", 1.0, "a franchise is the clearest 'more like this'"),
    ContentField("directors", "names", 0.5, "a director's films share a style, but span genres"),
    ContentField("cast", "names", 0.5, f"the first {MAIN_CAST} billed actors: a recurring star, "
                                       "weaker than the story"),
    ContentField("title", "text", 0.3, "sequels and remakes share title words; low, since unrelated "
                                      "titles share common words too"),
    ContentField("tagline", "text", 0.3, "one sentence of tone; often empty"),
)
STREAMING_FIELDS = (
    ContentField("description", "text", 1.0, "the synopsis: what the title is about, the richest signal"),
    ContentField("listed_in", "names", 1.0, "the platform's genres: the kind of title a viewer asked for"),
    ContentField("director", "names", 0.5, "a director's titles share a style, but span genres"),
    ContentField("cast", "names", 0.5, f"the first {MAIN_CAST} listed actors: a recurring star"),
    ContentField("country", "names", 0.25, "where it was made: a weak hint of language and tone"),
)


def name_list(value, limit: int | None = None) -> list[str]:
    """A cell that lists names (a list, or a ', '-joined string) -> match keys, in order."""
    if isinstance(value, str):
        value = value.split(",")
    elif not isinstance(value, (list, tuple, np.ndarray)):
        return []                                      # None / NaN: the title lacks the field
    keys = [match_key(item) for item in value if isinstance(item, str) and item.strip()]
    return keys[:limit] if limit else keys


def _names(document: list[str]) -> list[str]:
    return document


def field_matrix(values: pd.Series, content: ContentField) -> sparse.csr_matrix:
    """TF-IDF rows of unit length (zero rows for titles without the field).

    min_df=2: a term only one title has cannot make two titles similar.
    """
    if content.kind == "text":
        vectorizer = TfidfVectorizer(stop_words="english", strip_accents="unicode", sublinear_tf=True, min_df=2,
                                     dtype=np.float32)
        documents = values.fillna("").astype(str)
    else:
        vectorizer = TfidfVectorizer(analyzer=_names, min_df=2, dtype=np.float32)
        documents = [name_list(v, MAIN_CAST if content.column == "cast" else None) for v in values]
    try:
        return vectorizer.fit_transform(documents).tocsr()
    except ValueError as exc:
        if "empty vocabulary" in str(exc) or "no terms remain" in str(exc):    # no term shared by two titles
            return sparse.csr_matrix((len(values), 0), dtype=np.float32)
        raise


def content_matrix(frame: pd.DataFrame, fields: Iterable[ContentField]) -> sparse.csr_matrix:
    """One row per title: each field's unit-length TF-IDF row scaled by sqrt(weight / total weight),
    so that the dot product of two rows is the weighted mean of the per-field cosines."""
    fields = list(fields)
    total = sum(f.weight for f in fields)
    blocks = [field_matrix(frame[f.column], f) * np.float32(np.sqrt(f.weight / total)) for f in fields]
    return sparse.hstack(blocks, format="csr", dtype=np.float32)


@dataclass
class Neighbours:
    index: np.ndarray          # int32 [titles, k]: positions of the neighbours, best first; -1 = none
    score: np.ndarray          # float32 [titles, k]: their similarity, 0..1

    def save_to(self, arrays: dict[str, np.ndarray], group: str) -> None:
        arrays[f"neighbours_{group}"] = self.index
        arrays[f"scores_{group}"] = self.score.astype(np.float16)


def _split_columns(matrix: sparse.csr_matrix) -> tuple[np.ndarray, sparse.csr_matrix, sparse.csr_matrix]:
    """(dense rows of the frequent columns, sparse rows of the rest, the rest transposed)."""
    df = np.bincount(matrix.indices, minlength=matrix.shape[1])
    frequent = np.flatnonzero(df > DENSE_DF_SHARE * matrix.shape[0])
    frequent = frequent[np.argsort(-df[frequent], kind="stable")][:MAX_DENSE_COLUMNS]
    rare = np.setdiff1d(np.arange(matrix.shape[1]), frequent)
    csc = matrix.tocsc()
    dense = csc[:, frequent].toarray()
    rest = csc[:, rare].tocsr()
    return dense, rest, rest.T.tocsr()


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best columns per row with similarity above MIN_SIMILARITY, best first, ties by column;
    -1 pads a row with fewer.

    A full partition of every row costs most of the search, so each row's k-th best value within
    every 8th column is found first: it cannot exceed the row's true k-th best, so every value at or
    above it is a candidate, and only those few are sorted.
    """
    n_rows, n_cols = scores.shape
    threshold = np.full(n_rows, MIN_SIMILARITY, dtype=scores.dtype)
    if n_cols >= 16 * k:
        # (negated: numpy selects the k-th smallest of tie-heavy rows far faster than the k-th largest)
        sample = -scores[:, ::SAMPLE_STRIDE]
        threshold = np.maximum(threshold, -np.partition(sample, k - 1, axis=1)[:, k - 1])
    rows, cols = np.nonzero(scores >= threshold[:, None])
    values = scores[rows, cols]
    order = np.lexsort((cols, -values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
    keep = rank < k
    index = np.full((n_rows, k), -1, dtype=np.int32)
    score = np.zeros((n_rows, k), dtype=np.float32)
    index[rows[keep], rank[keep]] = cols[keep]
    score[rows[keep], rank[keep]] = values[keep]
    return index, score


def _first_of_each_work(index: np.ndarray, score: np.ndarray, works: np.ndarray, k: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Later copies of a work dropped from each row of neighbours, truncated to k."""
    codes = np.where(index >= 0, works[np.maximum(index, 0)], -1 - np.arange(index.shape[1]))
    ordered = np.sort(codes, axis=1)
    index, score = index.copy(), score.copy()
    for row in np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1)):
        keep = np.sort(np.unique(codes[row], return_index=True)[1])
        index[row], score[row] = np.pad(index[row, keep], (0, index.shape[1] - len(keep)), constant_values=-1), \
            np.pad(score[row, keep], (0, index.shape[1] - len(keep)))
    return index[:, :k], score[:, :k]


def nearest_neighbours(matrix: sparse.csr_matrix, k: int = MAX_NEIGHBOURS, works: np.ndarray | None = None,
                       groups: dict[str, np.ndarray] | None = None,
                       progress: Progress | None = None) -> dict[str, Neighbours]:
    """Each row's k most similar rows by dot product (the similarity), positive similarity only.

    works: a code per row; rows of the same work (the same title on two platforms) are never each
    other's neighbours, and a work appears once in a list. groups: name -> boolean mask of the rows
    that may be neighbours in that group's lists ("all" is always computed). progress: the search's
    chunks of CHUNK_ROWS titles are its steps.
    """
    n = matrix.shape[0]
    columns = {name: np.flatnonzero(mask) for name, mask in {"all": np.ones(n, bool), **(groups or {})}.items()}
    copies: dict[int, np.ndarray] = {}
    if works is not None:
        works = np.asarray(works)
        shared = pd.Series(np.arange(n)).groupby(works).agg(list)
        copies = {row: np.asarray(rows) for rows in shared[shared.map(len) > 1] for row in rows}
    wide = 2 * k if copies else k                     # room for dropping copies of a work
    dense, rest, rest_t = _split_columns(matrix)
    dense_t = np.ascontiguousarray(dense.T)

    def chunk(start: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        stop = min(n, start + CHUNK_ROWS)
        scores = dense[start:stop] @ dense_t
        product = rest[start:stop] @ rest_t
        scores[np.repeat(np.arange(stop - start), np.diff(product.indptr)), product.indices] += product.data
        scores[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        for row in range(start, stop):
            if row in copies:
                scores[row - start, copies[row]] = -np.inf
        found = {}
        for name, cols in columns.items():
            index, score = _top_k(scores if len(cols) == n else scores[:, cols], wide)
            index = np.where(index >= 0, cols[np.maximum(index, 0)], -1).astype(np.int32)
            found[name] = (_first_of_each_work(index, score, works, k) if copies and works is not None
                           else (index, score))
        return found

    starts = range(0, n, CHUNK_ROWS)
    steps = (progress or Progress(quiet=True)).begin("similar titles search", len(starts), "chunks")

    def counted(start: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        found = chunk(start)
        steps.advance()
        return found

    # numpy and scipy release the GIL in the heavy steps, so chunks run in parallel threads
    with steps, ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        parts = list(pool.map(counted, starts))
    return {name: Neighbours(np.vstack([p[name][0] for p in parts]), np.vstack([p[name][1] for p in parts]))
            for name in columns}
