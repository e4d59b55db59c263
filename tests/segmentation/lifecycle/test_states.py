"""Lifecycle states on sequences simulated from a known 3-state HMM (new, active, dormant):
BIC picks 3 of 2..5, the transition matrix comes back within 0.05, the states get the names
of the behaviour they were simulated with, and the likelihood, posteriors and churn
probabilities agree with hmmlearn and with a forward filter written out in the test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hmmlearn import hmm as reference_hmm
from scipy import stats

from segmentation.errors import SegmentationError
from segmentation.lifecycle import hmm
from segmentation.lifecycle.sequences import Sequences, from_arrays
from segmentation.lifecycle.states import Lifecycle, fit_states, name_states, next_state_distribution

TRUE_NAMES = ("new", "active", "dormant")
TRUE_START = np.array([0.9, 0.1, 0.0])
TRUE_TRANSITIONS = np.array([[0.70, 0.25, 0.05], [0.05, 0.85, 0.10], [0.02, 0.08, 0.90]])
# log1p(purchases), log1p(spend): new ~1 purchase of ~50, active ~3 for ~150, dormant exactly 0
TRUE_MEANS = np.array([[np.log1p(1), np.log1p(50)], [np.log1p(3), np.log1p(150)], [0.0, 0.0]])
TRUE_SD = np.array([[0.2, 0.4], [0.25, 0.4], [0.0, 0.0]])
TOLERANCE = 0.05


def simulate(customers: int = 3000, periods: int = 24, seed: int = 11) -> Sequences:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(12, periods + 1, customers)
    state = rng.choice(3, size=customers, p=TRUE_START)
    X = np.empty((customers, periods, 2))
    for t in range(periods):
        X[:, t] = TRUE_MEANS[state] + TRUE_SD[state] * rng.standard_normal((customers, 2))
        state = (rng.random(customers)[:, None] > np.cumsum(TRUE_TRANSITIONS[state], 1)).sum(1)
    mask = np.arange(periods)[None, :] < lengths[:, None]
    return from_arrays(np.arange(customers) + 1000, X[mask], lengths)


@pytest.fixture(scope="module")
def sequences() -> Sequences:
    return simulate()


@pytest.fixture(scope="module")
def lifecycle(sequences: Sequences) -> Lifecycle:
    return fit_states(sequences, seed=0)


def truth_order(lifecycle: Lifecycle) -> np.ndarray:
    """The fitted state nearest each true state's means."""
    distance = ((lifecycle.model.means[None, :, :] - TRUE_MEANS[:, None, :]) ** 2).sum(-1)
    order = distance.argmin(1)
    assert len(set(order)) == 3
    return order


def reference_model(model: hmm.GaussianHMM) -> reference_hmm.GaussianHMM:
    ref = reference_hmm.GaussianHMM(model.n_states, "diag", init_params="")
    ref.startprob_, ref.transmat_ = model.startprob, model.transmat
    ref.means_, ref.covars_ = model.means, model.variances
    ref.n_features = model.means.shape[1]
    return ref


def test_bic_picks_the_three_states_simulated(lifecycle: Lifecycle, sequences: Sequences):
    assert set(lifecycle.bic) == {2, 3, 4, 5}
    assert min(lifecycle.bic, key=lifecycle.bic.get) == 3 == lifecycle.model.n_states
    # free parameters of a 3-state diagonal Gaussian HMM on 2 emissions: 2 + 6 + 6 + 6
    assert lifecycle.model.n_parameters() == 20
    ref = reference_model(lifecycle.model)
    assert lifecycle.bic[3] == pytest.approx(ref.bic(sequences.X, sequences.lengths), rel=1e-9)
    assert lifecycle.log_likelihood == pytest.approx(ref.score(sequences.X, sequences.lengths), rel=1e-9)


def test_the_transition_matrix_is_recovered_within_the_tolerance(lifecycle: Lifecycle):
    order = truth_order(lifecycle)
    fitted = lifecycle.model.transmat[np.ix_(order, order)]
    assert np.abs(fitted - TRUE_TRANSITIONS).max() < TOLERANCE
    assert np.abs(lifecycle.model.startprob[order] - TRUE_START).max() < TOLERANCE
    np.testing.assert_allclose(lifecycle.model.means[order], TRUE_MEANS, atol=0.05)


def test_states_are_named_by_the_behaviour_simulated(lifecycle: Lifecycle):
    order = truth_order(lifecycle)
    assert tuple(lifecycle.names[i] for i in order) == TRUE_NAMES
    assert list(lifecycle.transitions.index) == list(lifecycle.names) == list(lifecycle.transitions.columns)
    states = lifecycle.states.set_index("state")
    assert states.loc["active", "typical_purchases"] == pytest.approx(3, rel=0.05)
    assert states.loc["new", "typical_spend"] == pytest.approx(50, rel=0.05)
    assert states.loc["dormant", "typical_purchases"] == pytest.approx(0, abs=0.01)
    assert states["customers_now"].sum() == len(lifecycle.customers)


def forward_filter(model: hmm.GaussianHMM, x: np.ndarray) -> np.ndarray:
    """P(last state | x) by the textbook recursion, with scipy's normal densities."""
    density = stats.norm.pdf(x[:, None, :], model.means, np.sqrt(model.variances)).prod(-1)
    alpha = model.startprob * density[0]
    alpha /= alpha.sum()
    for t in range(1, len(x)):
        alpha = (alpha @ model.transmat) * density[t]
        alpha /= alpha.sum()
    return alpha


def test_churn_is_the_filtered_posterior_times_the_dormant_column(lifecycle: Lifecycle, sequences: Sequences):
    model, customers = lifecycle.model, lifecycle.customers
    dormant = lifecycle.names.index("dormant")
    starts = sequences.starts
    for i in range(0, len(sequences.lengths), 150):
        x = sequences.X[starts[i] : starts[i] + sequences.lengths[i]]
        posterior = forward_filter(model, x)
        row = customers.iloc[i]
        assert row["customer_id"] == sequences.customer_ids[i]
        assert row["churn_probability"] == pytest.approx(posterior @ model.transmat[:, dormant], abs=1e-9)
        assert row["state"] == lifecycle.names[int(posterior.argmax())]
        assert row["posterior"] == pytest.approx(posterior.max(), abs=1e-9)
    # every customer against hmmlearn: the smoothed posterior of the last period is the filtered one
    smoothed = reference_model(model).predict_proba(sequences.X, sequences.lengths)
    last = smoothed[np.cumsum(sequences.lengths) - 1]
    current = customers[[f"current_{n}" for n in lifecycle.names]].to_numpy()
    np.testing.assert_allclose(current, last, atol=1e-9)
    np.testing.assert_allclose(customers["churn_probability"], last @ model.transmat[:, dormant], atol=1e-9)
    shares = next_state_distribution(lifecycle)
    np.testing.assert_allclose(shares.to_numpy(), (last @ model.transmat).mean(0), atol=1e-12)
    assert shares.sum() == pytest.approx(1.0)


def test_a_seeded_fit_repeats_and_a_sample_fits_the_model():
    small = simulate(customers=400, seed=5)
    first = fit_states(small, n_states=(3,), seed=4, max_customers=300)
    second = fit_states(small, n_states=(3,), seed=4, max_customers=300)
    assert first.fitted_customers == 300
    assert len(first.customers) == 400
    np.testing.assert_array_equal(first.model.transmat, second.model.transmat)
    pd.testing.assert_frame_equal(first.customers, second.customers)


def model(means: list[list[float]], start: list[float]) -> hmm.GaussianHMM:
    k = len(means)
    return hmm.GaussianHMM(np.array(start), np.full((k, k), 1.0 / k), np.array(means), np.ones((k, 2)))


def test_names_come_from_measured_behaviour_only():
    four = model([[1.4, 5.0], [0.0, 0.0], [0.7, 3.9], [0.3, 2.0]], [0.1, 0.0, 0.8, 0.1])
    assert name_states(four) == ("active", "dormant", "new", "declining")
    # nobody mostly starts anywhere: no "new"; no state near zero: no "dormant" and no churn
    five = model([[1.4, 5.0], [0.5, 2.0], [0.9, 4.0], [0.7, 3.0], [1.1, 4.5]], [0.2] * 5)
    assert name_states(five) == ("active", "declining", "occasional", "occasional 2", "steady")
    # two states: the one customers start in is "active", not "new", with nothing to compare it to
    assert name_states(model([[1.0, 4.0], [0.0, 0.0]], [1.0, 0.0])) == ("active", "dormant")


def test_too_little_data_is_a_clear_refusal():
    tiny = from_arrays(np.array([1, 2]), np.zeros((4, 2)), np.array([2, 2]))
    with pytest.raises(SegmentationError, match="too few to fit up to 5 lifecycle states"):
        fit_states(tiny)
