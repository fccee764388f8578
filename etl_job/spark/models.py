"""The two models fitted with Spark MLlib's ALS and exported to the formats the functions already serve.

The rating predictor. Served as streamlens.factor_model.FactorModel: est = mu + b_u + b_i + q_i . p_u, clipped
to 0.5..5, a term dropped when its user or item is unknown. MLlib's ALS has no bias terms (it factorises the
ratings themselves), so the biases are fitted first as surprise's BaselineOnly fits them (alternating
regularised means, reg_u 15 and reg_i 10 by default), then ALS factorises what they leave, r - mu - b_u - b_i.
Without them the factors must spend their capacity on how generous a user is and how good a title is, and a
user or title known to the biases but not to the factors would get mu alone.

The ranking model. Served as streamlens.ranking.RankingModel: a user's factors are solved at request time as
implicit's ALS solves them, with confidence c = alpha x rating and a constant regularisation lambda:

    implicit:  A = YtY + lambda I + sum_j (c_j - 1) y_j y_j^T,   b = sum_j c_j y_j
    MLlib:     A = YtY + n_u regParam I + sum_j alpha' |r'_j| y_j y_j^T,   b = sum_{r'_j > 0} (1 + alpha' r'_j) y_j

(MLlib's implicit ALS, ALS.computeFactors: confidence 1 + alpha'|r'|, preference 1 for r' > 0, and regParam
scaled by the user's number of ratings n_u, "ALS-WR"; items likewise by theirs). With alpha' = 1 and
r' = alpha x rating - 1 both systems are the same whenever alpha x rating > 1. MLlib cannot give a rated title a
confidence below 1 (with alpha 1: the ratings 0.5 and 1), so r' is floored at MIN_PREFERENCE: such a title stays
a (weak) positive with confidence 1 instead of alpha x rating. The regularisation cannot match exactly for
everyone (MLlib's grows with each user's and each title's count, implicit's is one constant): regParam =
lambda / (mean ratings per user), so a user of average activity is regularised in training as the served
fold-in regularises everyone; the exported RankingModel keeps lambda and alpha. Where every user and every
title has the same count the two are the same system, which tests/spark/test_models.py checks on MLlib's own
factors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from streamlens.factor_model import FactorModel
from streamlens.ranking import RankingModel

RATING_SCALE = (0.5, 5.0)
# surprise's BaselineOnly defaults (its ALS baselines): the same shrinkage towards mu for few ratings.
BIAS_REG_USER = 15.0
BIAS_REG_ITEM = 10.0
# alternating rounds: on ratings_small the biases alone then score within 0.0005 RMSE of ten rounds' biases
BIAS_ROUNDS = 3
MIN_PREFERENCE = 1e-6      # the floor of r' = alpha x rating - 1: a rated title stays a positive
# Parity with the single-machine models on the same split (docs/recommender.md, "Spark models: parity", from
# bench/results/spark_models.json): held-out RMSE at most this much above surprise SVD's, precision@10 at most
# this share below implicit's.
RMSE_TOLERANCE = 0.03
PRECISION_TOLERANCE = 0.20
INT_MAX = 2**31 - 1        # MLlib's ALS takes integer ids
INTEGER_TYPES = ("int", "bigint", "smallint", "tinyint")


def _checked(ratings, *extra):
    """MLlib's ALS casts ids to int: refuse ids it would silently wrap or truncate. Returns the values of the
    `extra` aggregates, computed in the same pass."""
    from pyspark.sql import functions as F

    types = dict(ratings.dtypes)
    row = ratings.agg(F.min("user"), F.max("user"), F.min("item"), F.max("item"), *extra).first()
    for k, column in enumerate(("user", "item")):
        low, high = row[2 * k], row[2 * k + 1]
        if types[column] not in INTEGER_TYPES or (low is not None and (low < 0 or high > INT_MAX)):
            raise ValueError(f"{column}: MLlib's ALS needs integer ids in 0..{INT_MAX} "
                             f"(got {types[column]} {low}..{high})")
    return tuple(row[4:])


def _blocks(ratings) -> int:
    """As many ALS blocks as the cluster runs tasks at once (MLlib's default of 10 is slow in local mode)."""
    return max(2, ratings.sparkSession.sparkContext.defaultParallelism)


def _collect_factors(frame) -> tuple[np.ndarray, np.ndarray]:
    """(ids, factors) of an ALS model's userFactors or itemFactors, sorted by id."""
    rows = frame.orderBy("id").toPandas()
    factors = np.asarray(rows["features"].tolist(), dtype=np.float32).reshape(len(rows), -1)
    return rows["id"].to_numpy(np.int64), factors


@dataclass
class SparkPredictor:
    """The fitted rating predictor on Spark: mu, the biases (Spark DataFrames) and MLlib's ALS on the residuals."""
    global_mean: float
    user_bias: Any          # DataFrame user, b_u
    item_bias: Any          # DataFrame item, b_i
    als: Any                # pyspark.ml.recommendation.ALSModel
    item_ids: np.ndarray | None

    def transform(self, pairs):
        """Spark's own prediction for (user, item) pairs, column `prediction`: the served formula in Spark SQL."""
        from pyspark.sql import functions as F

        low, high = RATING_SCALE
        scored = (self.als.setColdStartStrategy("nan").transform(pairs)
                  .join(self.user_bias, "user", "left").join(self.item_bias, "item", "left"))
        est = (F.lit(self.global_mean) + F.coalesce(F.col("b_u"), F.lit(0.0)) + F.coalesce(F.col("b_i"), F.lit(0.0))
               + F.nanvl(F.col("prediction"), F.lit(0.0)))
        return scored.withColumn("prediction", F.least(F.lit(high), F.greatest(F.lit(low), est))).drop("b_u", "b_i")

    def export(self) -> FactorModel:
        """The FactorModel the functions serve: raw ids, biases in float64, factors in float32."""
        users, user_factors = _collect_factors(self.als.userFactors)
        items, item_factors = _collect_factors(self.als.itemFactors)
        user_bias = self.user_bias.toPandas().set_index("user")["b_u"].reindex(users).to_numpy(np.float64)
        item_bias = self.item_bias.toPandas().set_index("item")["b_i"].reindex(items).to_numpy(np.float64)
        # Raw title ids as fixed-width text, as export_svd's: pandas' strings are object arrays, which np.load
        # refuses without pickles, so the recommender Lambdas could not load the model.
        return FactorModel(global_mean=self.global_mean, user_ids=users,
                           item_ids=items if self.item_ids is None else np.asarray(self.item_ids, dtype=str)[items],
                           user_bias=user_bias, item_bias=item_bias, user_factors=user_factors,
                           item_factors=item_factors, rating_scale=RATING_SCALE)


def fit_biases(ratings, mu: float, rounds: int = BIAS_ROUNDS, reg_user: float = BIAS_REG_USER,
               reg_item: float = BIAS_REG_ITEM) -> tuple[Any, Any]:
    """The regularised biases around mu as surprise's BaselineOnly (ALS) computes them, items then users each
    round: b_i = sum(r - mu - b_u) / (reg_i + n_i), b_u = sum(r - mu - b_i) / (reg_u + n_u)."""
    from pyspark.sql import functions as F

    user_bias = ratings.select("user").distinct().withColumn("b_u", F.lit(0.0))
    item_bias = None
    for _ in range(rounds):
        item_bias = (ratings.join(user_bias, "user").groupBy("item")
                     .agg((F.sum(F.col("rating") - mu - F.col("b_u")) / (reg_item + F.count("*"))).alias("b_i"))
                     .localCheckpoint())
        user_bias = (ratings.join(F.broadcast(item_bias), "item").groupBy("user")
                     .agg((F.sum(F.col("rating") - mu - F.col("b_i")) / (reg_user + F.count("*"))).alias("b_u"))
                     .localCheckpoint())
    return user_bias, item_bias


def fit_explicit(ratings, params: dict, seed: int, item_ids: np.ndarray | None = None) -> SparkPredictor:
    """ratings: a Spark DataFrame user, item (integer ids), rating. params: rank, maxIter, regParam (MLlib's
    scale: per rating), optionally bias_rounds. item_ids: the raw id of each item id, when items are positions."""
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F

    ratings = ratings.select("user", "item", F.col("rating").cast("double")).cache()
    (mu,) = _checked(ratings, F.avg("rating"))
    user_bias, item_bias = fit_biases(ratings, float(mu), params.get("bias_rounds", BIAS_ROUNDS))
    residuals = (ratings.join(user_bias, "user").join(F.broadcast(item_bias), "item")
                 .select("user", "item", (F.col("rating") - mu - F.col("b_u") - F.col("b_i")).alias("residual")))
    blocks = _blocks(ratings)
    als = ALS(rank=params["rank"], maxIter=params["maxIter"], regParam=params["regParam"], implicitPrefs=False,
              userCol="user", itemCol="item", ratingCol="residual", seed=seed, numUserBlocks=blocks,
              numItemBlocks=blocks, coldStartStrategy="nan").fit(residuals)
    ratings.unpersist()
    return SparkPredictor(float(mu), user_bias, item_bias, als, item_ids)


def fit_predictor(ratings, params: dict, seed: int, item_ids: np.ndarray | None = None) -> FactorModel:
    """MLlib's explicit ALS with biases, exported to the served FactorModel."""
    return fit_explicit(ratings, params, seed, item_ids).export()


def mllib_reg_param(regularization: float, ratings_per_user: float) -> float:
    """implicit's constant lambda -> MLlib's per-rating regParam, exact for a user of average activity."""
    return regularization / ratings_per_user


def implicit_preferences(ratings, alpha: float):
    """The column MLlib's implicit ALS (alpha' = 1) turns into implicit's confidence alpha x rating."""
    from pyspark.sql import functions as F

    return ratings.select("user", "item", F.greatest(F.lit(alpha) * F.col("rating") - 1.0,
                                                      F.lit(MIN_PREFERENCE)).alias("preference"))


@dataclass
class SparkRanker:
    als: Any                # pyspark.ml.recommendation.ALSModel
    model: RankingModel
    reg_param: float        # what MLlib was given


def fit_implicit(ratings, params: dict, seed: int, n_items: int, iterations: int = 15) -> SparkRanker:
    """ratings: user, item (catalog positions 0..n_items-1), rating. params: implicit's factors,
    regularization, alpha. Titles nobody rated get zero factors, as implicit leaves them (then
    etl_job.ranker.fill_from_content)."""
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F

    rows, n_users = _checked(ratings, F.count("*"), F.countDistinct("user"))
    reg_param = mllib_reg_param(float(params["regularization"]), rows / max(1, n_users))
    blocks = _blocks(ratings)
    als = ALS(rank=params["factors"], maxIter=iterations, regParam=reg_param, implicitPrefs=True, alpha=1.0,
              userCol="user", itemCol="item", ratingCol="preference", seed=seed, numUserBlocks=blocks,
              numItemBlocks=blocks).fit(implicit_preferences(ratings, float(params["alpha"])))
    items, factors = _collect_factors(als.itemFactors)
    if len(items) and items.max() >= n_items:
        raise ValueError(f"item positions must be below n_items={n_items} (got {items.max()})")
    catalog = np.zeros((n_items, params["factors"]), dtype=np.float32)
    catalog[items] = factors
    return SparkRanker(als, RankingModel(catalog, float(params["regularization"]), float(params["alpha"])),
                       reg_param)


def fit_ranker(ratings, params: dict, seed: int, n_items: int, iterations: int = 15) -> RankingModel:
    """MLlib's implicit ALS exported to the served RankingModel (item factors in catalog order)."""
    return fit_implicit(ratings, params, seed, n_items, iterations).model
