"""Lifecycle states on sequences simulated from a known 3-state HMM (new, active, dormant):
BIC picks 3 of 2..5, the transition matrix comes back within 0.05, the states get the names
of the behaviour they were simulated with, and the likelihood, posteriors and churn
probabilities agree with a forward filter written out in the test with scipy's densities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from segmentation.errors import SegmentationError
from segmentation.lifecycle import hmm
from segmentation.lifecycle.sequences import Sequences, activity, from_arrays
from segmentation.lifecycle.states import (
    Lifecycle,
    fit_states,
    name_states,
    next_probabilities,
    next_state_distribution,
)
from segmentation.lifecycle.transitions import likely_movers

TRUE_NAMES = ("new", "active", "dormant")
TRUE_START = np.array([0.9, 0.1, 0.0])
TRUE_TRANSITIONS = np.array([[0.70, 0.25, 0.05], [0.05, 0.85, 0.10], [0.02, 0.08, 0.90]])
# log1p(purchases), log1p(spend): new ~1 purchase of ~50, active ~3 for ~150, dormant exactly 0
# purchases a month (Poisson) and log1p(spend) in a month with purchases: new ~1 purchase for
# ~50, active ~3 for ~150, dormant none
TRUE_RATES = np.array([1.0, 3.0, 0.0])
TRUE_SPEND = np.array([np.log1p(50), np.log1p(150), 0.0])
TRUE_SD = np.array([0.4, 0.4, 0.0])
TOLERANCE = 0.05


def simulate(customers: int = 3000, periods: int = 24, seed: int = 11) -> Sequences:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(12, periods + 1, customers)
    state = rng.choice(3, size=customers, p=TRUE_START)
    X = np.empty((customers, periods, 2))
    for t in range(periods):
        count = rng.poisson(TRUE_RATES[state])
        spend = TRUE_SPEND[state] + TRUE_SD[state] * rng.standard_normal(customers)
        X[:, t] = np.column_stack([count, np.where(count > 0, spend, 0.0)])
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
    """The fitted state nearest each true state's purchase rate."""
    order = np.abs(lifecycle.model.rates[None, :] - TRUE_RATES[:, None]).argmin(1)
    assert len(set(order)) == 3
    return order


def forward_filter(model: hmm.ActivityHMM, x: np.ndarray) -> tuple[np.ndarray, float]:
    """P(last state | x) and log P(x) by the textbook recursion, with scipy's densities."""
    count, spend = x[:, :1], x[:, 1:]
    density = stats.poisson.pmf(count, model.rates) * np.where(
        count > 0, stats.norm.pdf(spend, model.means, np.sqrt(model.variances)), 1.0
    )
    alpha = model.startprob * density[0]
    loglik = np.log(alpha.sum())
    alpha /= alpha.sum()
    for t in range(1, len(x)):
        alpha = (alpha @ model.transmat) * density[t]
        loglik += np.log(alpha.sum())
        alpha /= alpha.sum()
    return alpha, float(loglik)


def reference(lifecycle: Lifecycle, sequences: Sequences) -> tuple[np.ndarray, float]:
    starts, lengths = sequences.starts, sequences.lengths
    runs = [
        forward_filter(lifecycle.model, sequences.X[a : a + n]) for a, n in zip(starts, lengths, strict=True)
    ]
    return np.array([r[0] for r in runs]), sum(r[1] for r in runs)


def test_bic_picks_the_three_states_simulated(lifecycle: Lifecycle, sequences: Sequences):
    # the forward search stops at the first rise: 4 states score worse than 3, 5 is never fitted
    assert set(lifecycle.bic) == {2, 3, 4} and lifecycle.bic[4] > lifecycle.bic[3] < lifecycle.bic[2]
    assert min(lifecycle.bic, key=lifecycle.bic.get) == 3 == lifecycle.model.n_states
    # free parameters of a 3-state HMM: 2 start + 6 transition + 3 rates + 3 spend means + 3 variances
    assert lifecycle.model.n_parameters() == 17
    _, loglik = reference(lifecycle, sequences)
    assert lifecycle.log_likelihood == pytest.approx(loglik, rel=1e-9)
    observations = int(sequences.lengths.sum())
    assert lifecycle.bic[3] == pytest.approx(-2 * loglik + 17 * np.log(observations), rel=1e-9)


def test_the_transition_matrix_is_recovered_within_the_tolerance(lifecycle: Lifecycle):
    order = truth_order(lifecycle)
    fitted = lifecycle.model.transmat[np.ix_(order, order)]
    assert np.abs(fitted - TRUE_TRANSITIONS).max() < TOLERANCE
    assert np.abs(lifecycle.model.startprob[order] - TRUE_START).max() < TOLERANCE
    np.testing.assert_allclose(lifecycle.model.rates[order], TRUE_RATES, atol=0.05)
    np.testing.assert_allclose(lifecycle.model.means[order[:2]], TRUE_SPEND[:2], atol=0.05)


def test_states_are_named_by_the_behaviour_simulated(lifecycle: Lifecycle):
    order = truth_order(lifecycle)
    assert tuple(lifecycle.names[i] for i in order) == TRUE_NAMES
    assert list(lifecycle.transitions.index) == list(lifecycle.names) == list(lifecycle.transitions.columns)
    states = lifecycle.states.set_index("state")
    assert states.loc["active", "purchases_per_period"] == pytest.approx(3, rel=0.05)
    assert states.loc["new", "spend_per_purchase"] == pytest.approx(50, rel=0.05)
    assert states.loc["dormant", "purchases_per_period"] == pytest.approx(0, abs=0.01)
    assert states["customers_now"].sum() == len(lifecycle.customers)


def test_churn_is_the_filtered_posterior_times_the_dormant_column(lifecycle: Lifecycle, sequences: Sequences):
    model, customers = lifecycle.model, lifecycle.customers
    dormant = lifecycle.names.index("dormant")
    last, _ = reference(lifecycle, sequences)
    current = customers[[f"current_{n}" for n in lifecycle.names]].to_numpy()
    np.testing.assert_allclose(current, last, atol=1e-9)
    np.testing.assert_allclose(customers["churn_probability"], last @ model.transmat[:, dormant], atol=1e-9)
    assert customers["customer_id"].tolist() == sequences.customer_ids.tolist()
    assert customers["state"].tolist() == [lifecycle.names[i] for i in last.argmax(1)]
    np.testing.assert_allclose(customers["posterior"], last.max(1), atol=1e-9)
    shares = next_state_distribution(lifecycle)
    np.testing.assert_allclose(shares.to_numpy(), (last @ model.transmat).mean(0), atol=1e-12)
    assert shares.sum() == pytest.approx(1.0)


def purchase_log(customers: int = 800, seed: int = 21) -> pd.DataFrame:
    """Events of customers joining over 20 months: new -> active or dormant, Poisson purchases
    of gamma-distributed amounts (not the model's lognormal), at least one in the first month."""
    rng = np.random.default_rng(seed)
    moves = np.array([[0.5, 0.4, 0.1], [0.05, 0.85, 0.10], [0.03, 0.07, 0.90]])
    rate, price = [1.5, 3.0, 0.0], [40.0, 60.0, 0.0]
    rows = []
    for customer in range(customers):
        joined, state = int(rng.integers(0, 20)), 0
        for month in range(joined, 24):
            n = rng.poisson(rate[state])
            for _ in range(max(n, 1) if month == joined else n):
                day = pd.Timestamp("2025-01-01") + pd.DateOffset(months=month, days=int(rng.integers(0, 28)))
                rows.append((customer, day, rng.gamma(4, price[state] / 4)))
            state = rng.choice(3, p=moves[state])
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])


def test_from_a_purchase_log_the_lifecycle_is_new_active_dormant():
    table, sequences = activity(purchase_log(), "2026-12-31")
    lifecycle = fit_states(sequences, seed=0)
    assert sorted(lifecycle.names) == ["active", "dormant", "new"]
    transitions = lifecycle.transitions.loc[["new", "active", "dormant"], ["new", "active", "dormant"]]
    truth = [[0.5, 0.4, 0.1], [0.05, 0.85, 0.10], [0.03, 0.07, 0.90]]
    assert np.abs(transitions.to_numpy() - truth).max() < 0.1
    # customers idle for their last two months are far likelier to churn than the others
    idle = table.groupby("customer_id").tail(2).groupby("customer_id")["purchases"].sum() == 0
    churn = lifecycle.customers.set_index("customer_id")["churn_probability"]
    assert churn[idle].mean() > 0.8 > 0.3 > churn[~idle].mean()


def test_likely_to_go_dormant_lists_the_customers_whose_churn_passes_the_threshold(lifecycle: Lifecycle):
    customers = lifecycle.customers
    movers = likely_movers(
        customers[["customer_id", "state"]].rename(columns={"state": "segment"}),
        next_probabilities(lifecycle),
        "dormant",
        threshold=0.3,
    )
    expected = customers[(customers["state"] != "dormant") & (customers["churn_probability"] >= 0.3)]
    assert len(expected) > 0
    assert set(movers["customer_id"]) == set(expected["customer_id"])
    np.testing.assert_allclose(
        movers["probability"],
        expected.set_index("customer_id").loc[movers["customer_id"], "churn_probability"],
    )
    assert movers["probability"].is_monotonic_decreasing


def test_a_seeded_fit_repeats_and_a_sample_fits_the_model():
    small = simulate(customers=400, seed=5)
    first = fit_states(small, n_states=(3,), seed=4, max_customers=300)
    second = fit_states(small, n_states=(3,), seed=4, max_customers=300)
    assert first.fitted_customers == 300
    assert len(first.customers) == 400
    np.testing.assert_array_equal(first.model.transmat, second.model.transmat)
    pd.testing.assert_frame_equal(first.customers, second.customers)


def model(rates: list[float], spend: list[float], start: list[float]) -> hmm.ActivityHMM:
    k = len(rates)
    return hmm.ActivityHMM(
        np.array(start), np.full((k, k), 1.0 / k), np.array(rates), np.log1p(spend), np.ones(k)
    )


def test_names_come_from_measured_behaviour_only():
    four = model([3.0, 0.01, 1.0, 0.5], [150, 400, 50, 30], [0.1, 0.0, 0.8, 0.1])
    # the dormant state buys almost never, however much it spends when it does
    assert name_states(four) == ("active", "dormant", "new", "declining")
    # nobody mostly starts anywhere: no "new"; no state near no purchases: no "dormant"
    five = model([3.0, 0.5, 1.5, 1.0, 2.0], [150, 30, 80, 50, 100], [0.2] * 5)
    assert name_states(five) == ("active", "declining", "occasional", "occasional 2", "steady")
    # two states: the one customers start in is "active", not "new", with nothing to compare it to
    assert name_states(model([1.0, 0.0], [50, 0], [1.0, 0.0])) == ("active", "dormant")


def test_too_little_data_is_a_clear_refusal():
    tiny = from_arrays(np.array([1, 2]), np.zeros((4, 2)), np.array([2, 2]))
    with pytest.raises(SegmentationError, match="too few to fit up to 5 lifecycle states"):
        fit_states(tiny)
