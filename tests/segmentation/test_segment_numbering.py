"""Per-segment stability and consensus in metrics.json belong to the segment whose number they carry.

The pipeline numbers segments by size, largest first, while a clustering numbers them as it
pleases; a figure keyed by the clustering's number would describe another segment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from segmentation import SegmentationSpec, segment
from segmentation.clustering.algorithms import make_estimator
from segmentation.clustering.stability import bootstrap_stability, consensus
from segmentation.clustering.sweep import REFIT_INITS, size_order, sweep

RESAMPLES = 5
LARGE, MEDIUM, DIFFUSE = 0, 1, 2  # the planted groups, which are also their delivered numbers by size


def planted_groups() -> tuple[pd.DataFrame, np.ndarray]:
    """Two tight groups of 500 and 250 customers and a diffuse box of 150 between them."""
    rng = np.random.default_rng(0)
    large = rng.normal((0, 0), 0.5, (500, 2))
    medium = rng.normal((8, 0), 0.5, (250, 2))
    diffuse = rng.uniform((1, 1.5), (7, 6), (150, 2))
    xy = np.vstack([large, medium, diffuse])
    planted = np.repeat([LARGE, MEDIUM, DIFFUSE], [500, 250, 150])
    shuffled = rng.permutation(len(xy))
    xy, planted = xy[shuffled], planted[shuffled]
    ids = [f"c{i}" for i in range(len(xy))]
    return pd.DataFrame({"customer_id": ids, "x": xy[:, 0], "y": xy[:, 1]}), planted


def kmeans_refit(k: int):  # type: ignore[no-untyped-def]
    """The sweep's own refit for K-Means: three starts, one thread."""

    def refit(rows: np.ndarray, seed: int) -> np.ndarray:
        estimator = make_estimator("kmeans", k, random_state=seed).set_params(n_init=REFIT_INITS)
        with threadpool_limits(limits=1):
            return estimator.fit(rows).labels_

    return refit


def majority(labels: np.ndarray, planted: np.ndarray, group: int) -> int:
    return int(np.bincount(labels[(planted == group) & (labels >= 0)]).argmax())


def test_the_figures_of_a_delivered_segment_are_computed_on_that_segment():
    frame, planted = planted_groups()
    spec = SegmentationSpec.from_dict(
        {
            "id_column": "customer_id",
            "numeric_columns": ["x", "y"],
            "k_min": 3,
            "k_max": 3,
            "algorithms": ["kmeans"],
            "stability_resamples": RESAMPLES,
        }
    )
    result = segment(frame, spec)
    delivered = result.labels["segment"].to_numpy()
    space = result.model.preprocessor.transform(frame)
    assert result.metrics["selected"]["assignment_agreement"] == 1.0
    assert [majority(delivered, planted, g) for g in (LARGE, MEDIUM, DIFFUSE)] == [0, 1, 2]
    # The clustering itself numbers the groups otherwise, which is what makes the test bite.
    clustering = sweep(space, algorithms=["kmeans"], k_min=3, k_max=3, stability_resamples=0).labels
    assert [majority(clustering, planted, g) for g in (LARGE, MEDIUM, DIFFUSE)] != [0, 1, 2]

    (candidate,) = result.metrics["candidates"]
    stability = bootstrap_stability(space, delivered, kmeans_refit(3), resamples=RESAMPLES, random_state=0)
    assert candidate["segment_jaccard"] == {
        str(s): pytest.approx(v, abs=1e-4) for s, v in stability.jaccard.items()
    }
    agreement = consensus(space, delivered, kmeans_refit(3), resamples=RESAMPLES, random_state=0)
    assert result.metrics["selected"]["consensus_within"] == {
        str(s): pytest.approx(v, abs=1e-4) for s, v in agreement.within.items()
    }
    jaccard = candidate["segment_jaccard"]
    assert min(jaccard, key=jaccard.get) == str(DIFFUSE)
    # The delivered segmentation's full-size stability, per segment with its interval, is keyed
    # by the delivered numbers too: recomputed here on the delivered labels directly.
    full = bootstrap_stability(
        space, delivered, kmeans_refit(3), resamples=RESAMPLES, random_state=0, max_rows=len(space)
    )
    selected = result.metrics["selected"]
    assert selected["stability_rows"] == len(space)
    assert selected["segment_jaccard"] == {
        str(s): pytest.approx(v, abs=1e-4) for s, v in full.jaccard.items()
    }
    assert selected["segment_jaccard_interval"] == {
        str(s): [pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4)]
        for s, (low, high) in full.jaccard_intervals.items()
    }
    full_jaccard = selected["segment_jaccard"]
    assert min(full_jaccard, key=full_jaccard.get) == str(DIFFUSE)


def test_every_candidate_of_a_sweep_numbers_its_segments_by_size():
    frame, _ = planted_groups()
    X = frame[["x", "y"]].to_numpy()
    result = sweep(X, algorithms=["kmeans"], k_min=2, k_max=3, stability_resamples=RESAMPLES)
    for candidate in result.candidates:
        labels = make_estimator("kmeans", candidate["k"], random_state=0).fit(X).labels_
        by_label = bootstrap_stability(
            X, labels, kmeans_refit(candidate["k"]), resamples=RESAMPLES, random_state=0
        ).jaccard
        largest_first = size_order(labels)
        assert candidate["segment_jaccard"] == {
            str(s): pytest.approx(by_label[int(label)], abs=1e-4) for s, label in enumerate(largest_first)
        }
