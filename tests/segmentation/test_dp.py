"""Differentially private profiles: the epsilon spent is OpenDP's, and the noise is calibrated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation import SegmentationError
from segmentation.protection.dp import dp_profile


def data(n: int = 6000):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, n)
    features = pd.DataFrame({"spend": rng.normal(50, 5, n) + labels * 20, "visits": rng.uniform(0, 10, n)})
    return labels, features


def test_the_release_spends_exactly_the_requested_epsilon():
    labels, features = data()
    bounds = {"spend": (0.0, 150.0), "visits": (0.0, 10.0)}
    table, spent = dp_profile(labels, features, bounds=bounds, epsilon=0.9, n_segments=3)
    assert spent == pytest.approx(0.9)
    assert list(table.columns) == ["segment", "size", "spend_mean", "visits_mean"]


def test_noisy_values_stay_close_at_a_generous_epsilon():
    labels, features = data()
    bounds = {"spend": (0.0, 150.0), "visits": (0.0, 10.0)}
    table, _ = dp_profile(labels, features, bounds=bounds, epsilon=30.0, n_segments=3)
    true_sizes = np.bincount(labels)
    # Laplace scale 3/30 = 0.1 on counts: an error of 20 has probability e^-200
    assert np.abs(table["size"].to_numpy() - true_sizes).max() < 20
    true_means = features.groupby(labels)["spend"].mean().to_numpy()
    assert np.abs(table["spend_mean"].to_numpy() - true_means).max() < 2


def test_a_non_positive_epsilon_is_refused():
    labels, features = data(100)
    with pytest.raises(SegmentationError, match="epsilon"):
        dp_profile(labels, features, bounds={"spend": (0, 1), "visits": (0, 1)}, epsilon=0, n_segments=3)
