"""Data builders shared by test modules (no test module imports another)."""

from __future__ import annotations

import numpy as np


def two_taste_ratings(seed: int, users: int, titles: int, per_user: int,
                      noise: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user, item, rating) arrays of users of two tastes: even users like even titles, odd users odd ones,
    so that factors matter; half-star ratings from 0.5 to 5 with Gaussian noise, seeded."""
    rng = np.random.default_rng(seed)
    user = np.repeat(np.arange(users), per_user)
    item = np.concatenate([rng.choice(titles, per_user, replace=False) for _ in range(users)])
    taste = (user % 2 == 0) == (item % 2 == 0)
    rating = np.clip(np.round((3.0 + 1.2 * np.where(taste, 1, -1) + rng.normal(0, noise, user.size)) * 2) / 2,
                     0.5, 5)
    return user, item, rating
