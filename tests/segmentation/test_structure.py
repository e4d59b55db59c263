"""The structure test: noise and a single bell get no segmentation, planted groups do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import pdist
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs, make_moons
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from segmentation import SegmentationSpec, segment
from segmentation.bounds import k_cap, min_segment_size
from segmentation.clustering.structure import gap_statistic, mixture_bic, structure_test
from segmentation.synthetic.customers import customer_table


def _standardised(points: np.ndarray) -> np.ndarray:
    return (points - points.mean(axis=0)) / points.std(axis=0)


def _uniform_box(n: int = 500, dims: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, size=(n, dims))


def _table(points: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(points, columns=[f"x{i}" for i in range(points.shape[1])])
    frame.insert(0, "customer_id", [f"C{i}" for i in range(len(points))])
    return frame


@pytest.mark.parametrize("seed", [0, 1])
def test_uniform_noise_in_a_box_has_no_structure(seed: int) -> None:
    result = structure_test(_standardised(_uniform_box(seed=seed)), random_state=seed)

    assert result["verdict"] == "none"
    assert result["evidence"]["gap"]["k"] == 1


def test_one_skewed_unimodal_cloud_has_no_structure() -> None:
    """Log-normal spend lifts Gap(1) above the box reference but forms no groups."""
    skewed = np.random.default_rng(1).lognormal(size=(500, 4))

    assert structure_test(_standardised(skewed), random_state=0)["verdict"] == "none"


@pytest.mark.parametrize("n", [60, 300])
def test_unlogged_heavy_tails_at_small_n_are_a_tail_not_groups(n: int) -> None:
    """k-means peels off a few extreme customers and the gap climbs with k; those k are not chosen."""
    verdicts = [
        structure_test(_standardised(np.random.default_rng(seed).lognormal(size=(n, 4))), random_state=seed)
        for seed in range(3)
    ]

    assert [v["verdict"] for v in verdicts] == ["none"] * 3
    assert any(v["evidence"]["gap"]["groups_too_small_at_k"] for v in verdicts)


def test_planted_customer_archetypes_are_clustered() -> None:
    frame, _ = customer_table(300, seed=5, messy=False)
    columns = ["recency_days", "orders_per_year", "avg_basket", "tenure_months"]

    result = structure_test(_standardised(frame[columns].astype(float).to_numpy()), random_state=0)

    assert result["verdict"] == "clustered"


def test_one_gaussian_blob_has_no_structure_and_its_best_bic_is_one_component() -> None:
    blob = np.random.default_rng(3).normal(size=(500, 4))

    result = structure_test(blob, random_state=0)

    assert result["verdict"] in ("none", "weak")
    assert result["evidence"]["bic"]["k"] == 1


def test_three_well_separated_blobs_are_clustered() -> None:
    points, _ = make_blobs(
        600, n_features=4, centers=3, cluster_std=1.0, center_box=(-10, 10), random_state=3
    )

    result = structure_test(_standardised(points), random_state=0)

    assert result["verdict"] == "clustered"
    assert result["evidence"]["gap"]["k"] == 3
    assert result["evidence"]["bic"]["k"] == 3


def test_two_half_moons_are_not_called_structureless() -> None:
    points, _ = make_moons(500, noise=0.05, random_state=0)

    assert structure_test(_standardised(points), random_state=0)["verdict"] != "none"


def test_the_gap_statistic_matches_a_direct_computation() -> None:
    """Tibshirani's definition computed here from pairwise distances: W_k = sum_r D_r / (2 n_r)."""
    points = _standardised(make_blobs(200, n_features=3, centers=2, random_state=1)[0])
    references = 3

    gap = gap_statistic(points, max_k=3, references=references, random_state=7)

    rng = np.random.default_rng(7)
    centre = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - centre, full_matrices=False)
    rotated = (points - centre) @ vt.T
    samples = [
        rng.uniform(rotated.min(axis=0), rotated.max(axis=0), size=rotated.shape) @ vt + centre
        for _ in range(references)
    ]

    def log_w(data: np.ndarray, k: int) -> float:
        labels = np.zeros(len(data), int) if k == 1 else KMeans(k, n_init=3, random_state=7).fit_predict(data)
        return float(
            np.log(
                sum(
                    pdist(data[labels == r], "sqeuclidean").sum() * 2 / (2 * (labels == r).sum())
                    for r in set(labels)
                )
            )
        )

    for index, k in enumerate(range(1, 4)):
        with threadpool_limits(limits=1):
            reference = np.array([log_w(sample, k) for sample in samples])
            direct = reference.mean() - log_w(points, k)
        assert gap.gap[index] == pytest.approx(direct, abs=1e-9)
        assert gap.s[index] == pytest.approx(reference.std() * np.sqrt(1 + 1 / references), abs=1e-9)
    assert gap.k == 2


def test_the_bic_is_scikit_learns_gaussian_mixture_bic_from_one_component() -> None:
    points = _standardised(make_blobs(300, n_features=3, centers=2, random_state=1)[0])

    bic = mixture_bic(points, max_k=3, random_state=0)

    for k in (1, 2, 3):
        expected = GaussianMixture(k, covariance_type="full", random_state=0).fit(points).bic(points)
        assert bic[k] == pytest.approx(expected)
    assert min(bic, key=bic.__getitem__) == 2


def test_a_noise_table_gets_neutral_group_names_and_no_actions() -> None:
    spec = SegmentationSpec(id_column="customer_id", numeric_columns=("x0", "x1", "x2", "x3"), k_max=4)

    result = segment(_table(_uniform_box()), spec)

    assert result.metrics["structure"]["verdict"] == "none"
    assert result.metrics_view.structure.recommends_none
    assert list(result.profile["name"]) == [f"Group {i + 1}" for i in range(len(result.profile))]
    assert set(result.profile["actions"]) == {""}
    assert result.metrics_view.structure.sentence.startswith("No segmentation recommended")


def test_sixty_customers_get_a_k_cap_and_a_minimum_segment_size() -> None:
    points = np.random.default_rng(5).normal(size=(60, 3))
    spec = SegmentationSpec(id_column="customer_id", numeric_columns=("x0", "x1", "x2"), k_min=2, k_max=8)

    result = segment(_table(points), spec)

    assert (k_cap(60), min_segment_size(60)) == (5, 10)
    assert result.metrics["k_range"] == [2, 5]
    assert result.model.n_segments <= 5
    assert "lowered to 5" in result.metrics_view.k_cap.note
    assert (k_cap(500), k_cap(5_000)) == (15, 30)
