"""BG/NBD and Pareto/NBD fitted on CDNOW equal the published estimates, and their per-customer
figures equal the posterior expectations computed independently by numerical integration."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation.errors import SegmentationError
from segmentation.lifecycle import bgnbd, pareto_nbd
from tests.segmentation.lifecycle import cdnow

# Fader, Hardie and Lee (2005), "Counting your customers the easy way", Marketing Science 24(2):
# BG/NBD r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4; Pareto/NBD (same paper, and
# Fader and Hardie's note 009) r = 0.55, α = 10.58, s = 0.61, β = 11.67, LL = −9595.0.
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_PARETO = {"r": 0.553, "alpha": 10.58, "s": 0.606, "beta": 11.67}
# A few CDNOW customers (x, t_x, T) of the published summary: a typical repeat buyer, one who
# bought again soon and then not, a one-time buyer, a frequent buyer and one seen recently.
CUSTOMERS = [(2, 30.43, 38.86), (1, 1.71, 38.86), (0, 0.0, 38.86), (7, 29.43, 35.71), (26, 30.86, 31.0)]
# And a frequent buyer of a two-year log, where ₂F₁'s parameters are large.
FREQUENT = (50, 100.0, 104.0)


def three_figures(value: float) -> float:
    return float(f"{value:.3g}")


@pytest.fixture(scope="module")
def summary():
    frame = cdnow.published_summary()
    return frame["x"].to_numpy(), frame["t_x"].to_numpy(), frame["T"].to_numpy()


@pytest.fixture(scope="module")
def bg(summary):
    return bgnbd.fit(*summary)


@pytest.fixture(scope="module")
def pareto(summary):
    return pareto_nbd.fit(*summary)


def test_bgnbd_on_cdnow_equals_the_published_estimates_to_three_figures(bg):
    assert {k: three_figures(v) for k, v in bg.params().items()} == {
        k: three_figures(v) for k, v in PUBLISHED_BGNBD.items()
    }
    assert round(bg.log_likelihood, 1) == -9582.4
    assert bg.customers == 2357


def test_pareto_nbd_on_cdnow_equals_the_published_estimates_to_three_figures(pareto):
    assert {k: three_figures(v) for k, v in pareto.params().items()} == {
        k: three_figures(v) for k, v in PUBLISHED_PARETO.items()
    }
    assert round(pareto.log_likelihood, 1) == -9595.0


def test_the_log_likelihood_is_the_sum_over_customers_and_the_maximum(summary, bg):
    x, t_x, T = summary
    at = np.array(list(bg.params().values()))
    assert bgnbd.log_likelihood(at, x, t_x, T).sum() == pytest.approx(bg.log_likelihood, rel=1e-12)
    for factor in (0.99, 1.01):
        for i in range(4):
            moved = at.copy()
            moved[i] *= factor
            assert bgnbd.log_likelihood(moved, x, t_x, T).sum() < bg.log_likelihood


@pytest.mark.parametrize(("x", "t_x", "T"), [*CUSTOMERS[:4], FREQUENT])
def test_bgnbd_p_alive_and_expected_purchases_equal_the_integrated_posterior(bg, x, t_x, T):
    alive, expected = cdnow.bgnbd_posterior(bg.params(), x, t_x, T, t=39.0)
    assert bg.p_alive([x], [t_x], [T])[0] == pytest.approx(alive, rel=1e-7)
    assert bg.expected_purchases(39.0, [x], [t_x], [T])[0] == pytest.approx(expected, rel=1e-7)


def test_bgnbd_conditional_expectation_equals_hardies_spreadsheet(bg):
    # Hardie's BG/NBD spreadsheet (brucehardie.com/notes/004): customer 1 over the 39-week holdout.
    assert round(bg.expected_purchases(39.0, [2], [30.43], [38.86])[0], 3) == 1.226


@pytest.mark.parametrize(("x", "t_x", "T"), [CUSTOMERS[0], CUSTOMERS[2], CUSTOMERS[4]])
def test_pareto_p_alive_and_expected_purchases_equal_the_integrated_posterior(pareto, x, t_x, T):
    alive, expected = cdnow.pareto_posterior(pareto.params(), x, t_x, T, t=52.0)
    assert pareto.p_alive([x], [t_x], [T])[0] == pytest.approx(alive, rel=1e-7)
    assert pareto.expected_purchases(52.0, [x], [t_x], [T])[0] == pytest.approx(expected, rel=1e-7)


def test_pareto_conditional_expectation_equals_the_btyd_walkthrough(pareto):
    # R package BTYD's walkthrough: a customer with 26 repeat purchases, t_x 30.86, T 31, over 52 weeks.
    assert round(pareto.expected_purchases(52.0, [26], [30.86], [31.0])[0], 2) == 25.46


def test_a_customer_seen_on_the_last_day_is_no_trouble(bg, pareto):
    # t_x = T: the Pareto/NBD A₀ is a difference of two equal terms (−inf on the log scale), and
    # she is certainly alive; under BG/NBD she may have dropped out right after that purchase.
    assert pareto.p_alive([3], [20.0], [20.0])[0] == 1.0
    assert bg.p_alive([3], [20.0], [20.0])[0] == pytest.approx(1 / (1 + bg.a / (bg.b + 2)), rel=1e-12)
    for model in (bg, pareto):
        assert np.isfinite(model.expected_purchases(10.0, [3], [20.0], [20.0])[0])


def simulate(n: int, r: float, alpha: float, a: float, b: float, seed: int):
    """A BG/NBD population, exactly: λ ~ Gamma(r, α), p ~ Beta(a, b), ages uniform over two years;
    purchases in [0, T] are Poisson(λT) and the customer drops out after a Geometric(p)-th repeat
    purchase, so x = min(N, J) and t_x is the x-th of N uniform arrival times (a Beta order statistic)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    T = rng.uniform(0, 104, n)
    arrivals = rng.poisson(lam * T)
    x = np.minimum(arrivals, rng.geometric(p))
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), arrivals - x + 1), 0.0)
    return x, t_x, T


def test_simulated_bgnbd_population_gives_back_its_parameters():
    truth = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    model = bgnbd.fit(*simulate(20_000, seed=3, **truth))
    # Tolerance: 15% of each parameter. Over seeds 0–4 at 20,000 customers the estimates of a and
    # b (the least precise) stayed within 12% and r and α within 3%.
    for name, value in truth.items():
        assert model.params()[name] == pytest.approx(value, rel=0.15), name


@pytest.mark.parametrize("fit", [bgnbd.fit, pareto_nbd.fit])
def test_a_log_of_one_time_buyers_is_refused_with_a_clear_message(fit):
    with pytest.raises(SegmentationError, match="needs repeat buyers: none of the 3 customers"):
        fit([0, 0, 0], [0.0, 0.0, 0.0], [10.0, 5.0, 1.0])


@pytest.mark.parametrize(
    ("history", "message"),
    [
        (([], [], []), "needs customers"),
        (([1, 0], [5.0, 0.0], [4.0, 3.0]), "recency ≤ T"),
        (([1, 0], [np.nan, 0.0], [4.0, 3.0]), "finite"),
        (([1, 0], [0.0, 0.0], [0.0, 0.0]), "observed for more than a day"),
    ],
)
def test_impossible_histories_are_refused_by_what_is_wrong(history, message):
    with pytest.raises(SegmentationError, match=message):
        bgnbd.fit(*history)
