"""Lifecycle states: a hidden Markov model of each customer's activity, states named by behaviour.

:func:`fit_states` fits the HMM of :mod:`.hmm` (Poisson purchases, Gaussian log spend per
purchase) on the emissions of :mod:`.sequences` for each number of states in a small range and
keeps the one with the lowest BIC, ``-2 log L + p log(observations)`` with ``p`` the model's free
parameters (:meth:`ActivityHMM.n_parameters`) and observations the customer-periods, trying
more states only while the BIC keeps falling (``bic`` holds the ones tried). The fit
reads at most ``max_customers`` customers (a seeded sample); every customer's current state comes
from the forward filter on their own whole sequence.

States are named from what they measure, never from their number:

- ``dormant``: the state buying least often, when its purchases per period (Poisson rate) are
  below ``DORMANT_PURCHASES`` (about none);
- ``new``: the state most customers start in (start probability >= 0.5), when it is not the
  dormant state and another active state is left to compare it with;
- the others by activity (expected spend per period, :func:`expected_spend`), highest first:
  ``active``, then ``steady`` and ``occasional`` for middle states, and ``declining`` for the
  least active one above dormant.

Churn probability is the next-period probability of the dormant state: the customer's current
(filtered) posterior times the transition matrix's dormant column. Without a dormant state it
is not defined (NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SegmentationError
from .hmm import ActivityHMM, fit, forward_backward
from .sequences import Sequences, pad

N_STATES = (2, 3, 4, 5)
DORMANT_PURCHASES = 0.25
NEW_START = 0.5
MIDDLE_NAMES = ("steady", "occasional")
CHUNK = 50_000


@dataclass(frozen=True)
class Lifecycle:
    model: ActivityHMM
    names: tuple[str, ...]  # one a state, in the model's order
    bic: dict[int, float]  # number of states -> BIC; the chosen one is the smallest
    log_likelihood: float
    fitted_customers: int
    states: pd.DataFrame  # one row a state: behaviour, start share, stay and churn probabilities
    transitions: pd.DataFrame  # rows: this period's state, columns: next period's (names)
    customers: pd.DataFrame  # customer_id, state, posterior, current_<name>, next_<name>, churn_probability

    @property
    def dormant(self) -> str | None:
        return "dormant" if "dormant" in self.names else None


def name_states(model: ActivityHMM) -> tuple[str, ...]:
    """Names from measured behaviour (see the module's docstring); unique."""
    k = model.n_states
    names: list[str | None] = [None] * k
    order = [int(i) for i in np.argsort(-expected_spend(model), kind="stable")]
    idle = int(np.argmin(model.rates))
    if model.rates[idle] < DORMANT_PURCHASES:
        names[idle] = "dormant"
        order.remove(idle)
    if len(order) >= 2:
        start = max(order, key=lambda i: model.startprob[i])
        if model.startprob[start] >= NEW_START:
            names[start] = "new"
            order.remove(start)
    if order:
        names[order[0]] = "active"
    if len(order) >= 2:
        names[order[-1]] = "declining"
    for i, middle in zip(order[1:-1], MIDDLE_NAMES, strict=False):
        names[i] = middle
    for position, i in enumerate(order[1 + len(MIDDLE_NAMES) : -1]):
        names[i] = f"{MIDDLE_NAMES[-1]} {position + 2}"
    assert all(n is not None for n in names) and len(set(names)) == k
    return tuple(str(n) for n in names)


def expected_spend(model: ActivityHMM) -> np.ndarray:
    """Spend per period a state expects: its purchase rate times its typical spend per purchase."""
    return model.rates * np.expm1(model.means)


def bic(model: ActivityHMM, log_likelihood: float, observations: int) -> float:
    return -2.0 * log_likelihood + model.n_parameters() * np.log(observations)


def _sample(sequences: Sequences, max_customers: int, seed: int) -> Sequences:
    n = len(sequences.lengths)
    if n <= max_customers:
        return sequences
    chosen = np.sort(np.random.default_rng(seed).choice(n, max_customers, replace=False))
    starts = sequences.starts
    rows = np.concatenate([np.arange(starts[i], starts[i] + sequences.lengths[i]) for i in chosen])
    return Sequences(
        customer_ids=sequences.customer_ids[chosen],
        X=sequences.X[rows],
        lengths=sequences.lengths[chosen],
        first_period=sequences.first_period[chosen],
        freq=sequences.freq,
    )


def current_posteriors(model: ActivityHMM, sequences: Sequences) -> np.ndarray:
    """P(state in the last period | the customer's whole sequence), (customers, K), in chunks."""
    out = np.empty((len(sequences.lengths), model.n_states))
    starts = sequences.starts
    for first in range(0, len(sequences.lengths), CHUNK):
        stop = min(first + CHUNK, len(sequences.lengths))
        lengths = sequences.lengths[first:stop]
        rows = sequences.X[starts[first] : starts[first] + int(lengths.sum())]
        X, mask = pad(rows, lengths)
        out[first:stop] = forward_backward(model, X, mask, backward=False)[1]
    return out


def fit_states(
    sequences: Sequences,
    n_states: tuple[int, ...] = N_STATES,
    seed: int = 0,
    max_customers: int = 10_000,
    n_init: int = 2,
) -> Lifecycle:
    """Fit the lifecycle HMM for each of ``n_states`` on a seeded sample of at most
    ``max_customers`` customers (``n_init`` starts each), keep the lowest BIC, and filter every
    customer with it. 20,000 customers and two starts: on 200,000 simulated customers × 24 months
    the choice and the states are those of 50,000 and three starts, in 12 s instead of 48 s; on
    the benchmark log (200,000 customers, 2.5M events, 24 months) 10,000 give the same five states
    with the same shares of customers (to 0.001) and stay probabilities (to 0.003) as 20,000, in
    12 s instead of 23 s."""
    if len(sequences.lengths) == 0:
        raise SegmentationError("There are no customers with purchases to model.")
    if any(k < 2 for k in n_states):
        raise SegmentationError("A lifecycle model needs at least two states.")
    sample = _sample(sequences, max_customers, seed)
    X, mask = sample.padded()
    observations = int(mask.sum())
    if observations < 10 * max(n_states) ** 2:
        raise SegmentationError(
            f"{observations} customer-periods are too few to fit up to {max(n_states)} lifecycle states."
        )
    # Forward search: more states are tried while the BIC keeps falling (on a few hundred
    # customers it rises after two or three, and the larger models cost the most to fit).
    fits: dict[int, tuple[ActivityHMM, float]] = {}
    scores: dict[int, float] = {}
    for k in sorted(n_states):
        fits[k] = fit(X, mask, k, seed=seed, n_init=n_init)
        scores[k] = float(bic(fits[k][0], fits[k][1], observations))
        if len(scores) > 1 and scores[k] > min(scores.values()):
            break
    chosen = min(scores, key=lambda k: scores[k])
    model, log_likelihood = fits[chosen]
    names = name_states(model)
    transitions = pd.DataFrame(model.transmat, index=list(names), columns=list(names))
    transitions.index.name, transitions.columns.name = "from", "to"
    current = current_posteriors(model, sequences)
    following = current @ model.transmat
    dormant = names.index("dormant") if "dormant" in names else None
    customers = pd.DataFrame(
        {
            "customer_id": sequences.customer_ids,
            "state": np.asarray(names, dtype=object)[current.argmax(1)],
            "posterior": current.max(1),
        }
    )
    for i, name in enumerate(names):
        customers[f"current_{name}"] = current[:, i]
    for i, name in enumerate(names):
        customers[f"next_{name}"] = following[:, i]
    customers["churn_probability"] = following[:, dormant] if dormant is not None else np.nan
    states = pd.DataFrame(
        {
            "state": list(names),
            "purchases_per_period": model.rates,
            "spend_per_purchase": np.expm1(model.means),
            "expected_spend": expected_spend(model),
            "start_share": model.startprob,
            "stay_probability": np.diag(model.transmat),
            "to_dormant": model.transmat[:, dormant] if dormant is not None else np.nan,
            "customers_now": [int((customers["state"] == n).sum()) for n in names],
        }
    )
    return Lifecycle(
        model=model,
        names=names,
        bic=scores,
        log_likelihood=log_likelihood,
        fitted_customers=len(sample.lengths),
        states=states,
        transitions=transitions,
        customers=customers,
    )


def next_probabilities(lifecycle: Lifecycle) -> pd.DataFrame:
    """``customer_id`` and one column a state: each customer's probabilities next period, the
    per-customer form :func:`segmentation.lifecycle.transitions.likely_movers` reads."""
    columns = {f"next_{n}": n for n in lifecycle.names}
    return lifecycle.customers[["customer_id", *columns]].rename(columns=columns)


def next_state_distribution(lifecycle: Lifecycle) -> pd.Series:
    """The share of customers expected in each state next period (the mean of next_<name>)."""
    columns = [f"next_{n}" for n in lifecycle.names]
    shares = lifecycle.customers[columns].mean()
    shares.index = list(lifecycle.names)
    return shares
