"""The dip test of unimodality: a second mode along a leading component counts as structure."""

from __future__ import annotations

import diptest
import numpy as np
import pytest
from sklearn.decomposition import PCA
from statsmodels.stats.multitest import multipletests

from segmentation.clustering.structure import structure_sentence, structure_test, structure_verdict
from segmentation.clustering.unimodality import dip_evidence, holm


def _two_bumps(n: int = 600, seed: int = 0) -> np.ndarray:
    """Two groups apart along one direction, wide and overlapping along the others."""
    rng = np.random.default_rng(seed)
    side = rng.integers(0, 2, size=n)
    along = np.where(side == 1, 2.5, -2.5) + rng.normal(size=n)
    return np.column_stack([along, rng.normal(size=(n, 3))])


def test_the_dip_of_each_component_is_the_diptest_packages_on_scikit_learns_pca_scores() -> None:
    points = _two_bumps()

    evidence = dip_evidence(points)

    scores = PCA(n_components=3, svd_solver="full").fit_transform(points)
    for tested, column in zip(evidence.components, scores.T, strict=True):
        dip, p_value = diptest.diptest(column)  # a component's sign does not change its dip
        assert tested.dip == pytest.approx(dip, abs=1e-12)
        assert tested.p_value == pytest.approx(p_value, abs=1e-12)
    adjusted = multipletests([c.p_value for c in evidence.components], method="holm")[1]
    assert [c.adjusted_p for c in evidence.components] == pytest.approx(list(adjusted))
    assert evidence.multimodal
    assert evidence.components[0].adjusted_p < 0.001


def test_holm_equals_statsmodels() -> None:
    p = [0.01, 0.04, 0.03, 0.5, 0.001]

    assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))


@pytest.mark.parametrize(
    "draw",
    [
        lambda rng: rng.uniform(size=(500, 4)),
        lambda rng: rng.normal(size=(500, 4)),
        lambda rng: np.log1p(rng.lognormal(size=(500, 3))),
        lambda rng: rng.exponential(size=(500, 2)),
    ],
    ids=["uniform", "normal", "logged log-normal", "exponential"],
)
def test_unimodal_shapes_show_no_second_mode_on_most_seeds(draw) -> None:
    rejections = sum(dip_evidence(draw(np.random.default_rng(seed))).multimodal for seed in range(20))

    assert rejections <= 2  # Holm keeps the family's error at 5%: about 1 in 20 by chance


def test_counts_and_flags_are_dithered_so_their_integer_steps_are_not_read_as_modes() -> None:
    def counts(seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return np.column_stack(
            [rng.poisson(3, 2000), rng.negative_binomial(2, 0.3, 2000), rng.integers(0, 2, 2000)]
        )

    undithered = sum(diptest.diptest(counts(seed)[:, 0].astype(float))[1] < 0.05 for seed in range(10))
    rejections = sum(dip_evidence(counts(seed), random_state=seed).multimodal for seed in range(10))

    assert undithered == 10  # the raw counts' steps would read as modes every time
    assert rejections <= 1


def test_ties_off_a_grid_are_not_dip_tested_and_the_evidence_says_why() -> None:
    rng = np.random.default_rng(0)
    spend = np.where(rng.uniform(size=400) < 0.6, 0.0, rng.lognormal(3, 1, size=400))  # 60% spend nothing

    evidence = dip_evidence(spend[:, None])

    assert not evidence.multimodal
    assert evidence.components[0].dip is None
    assert "ties" in evidence.components[0].skipped


def test_two_bumps_along_one_direction_are_clustered_and_the_sentence_names_the_mode() -> None:
    result = structure_test(_two_bumps(), random_state=0)

    assert result["verdict"] == "clustered"
    assert result["evidence"]["dip"]["multimodal"] is True
    assert "Hartigan's dip test finds a second mode along principal component 1" in structure_sentence(result)


def test_the_verdict_rule() -> None:
    assert structure_verdict(gap_k=3, bic_k=3, multimodal=False) == "clustered"
    assert structure_verdict(gap_k=3, bic_k=1, multimodal=True) == "clustered"
    assert structure_verdict(gap_k=3, bic_k=1, multimodal=False) == "weak"
    assert structure_verdict(gap_k=1, bic_k=4, multimodal=True) == "weak"
    assert structure_verdict(gap_k=1, bic_k=4, multimodal=False) == "none"
