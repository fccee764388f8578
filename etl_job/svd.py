"""scikit-surprise's SVD as the ETL fits it and the functions serve it: (user, item, rating) frames as a
surprise dataset on the 0.5..5 scale, a seeded fit, and the export of a fitted SVD to the numpy FactorModel
(streamlens/factor_model.py) that needs no surprise to predict."""

from __future__ import annotations

import numpy as np
import pandas as pd
from surprise import SVD, Dataset, Reader

from streamlens.factor_model import FactorModel

RATING_SCALE = (0.5, 5.0)


def to_dataset(frame: pd.DataFrame) -> Dataset:
    """frame columns user, item, rating -> surprise Dataset on the 0.5..5 scale."""
    return Dataset.load_from_df(frame[["user", "item", "rating"]], Reader(rating_scale=RATING_SCALE))


def to_trainset(rows) -> object:
    """(user, item, rating) tuples -> a surprise Trainset of all of them."""
    return to_dataset(pd.DataFrame(rows, columns=["user", "item", "rating"])).build_full_trainset()


def fit_svd(params: dict, trainset, seed: int) -> SVD:
    return SVD(**params, random_state=seed).fit(trainset)


def export_svd(algo: SVD) -> FactorModel:
    """Copy a fitted surprise SVD into a FactorModel (ids in inner-id order)."""
    trainset = algo.trainset
    users = np.asarray([trainset.to_raw_uid(u) for u in range(trainset.n_users)])
    items = np.asarray([trainset.to_raw_iid(i) for i in range(trainset.n_items)])
    return FactorModel(
        global_mean=float(trainset.global_mean), user_ids=users, item_ids=items,
        user_bias=np.asarray(algo.bu, dtype=np.float64), item_bias=np.asarray(algo.bi, dtype=np.float64),
        user_factors=np.asarray(algo.pu, dtype=np.float32), item_factors=np.asarray(algo.qi, dtype=np.float32),
        rating_scale=RATING_SCALE,
    )
