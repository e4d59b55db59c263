"""Customer lifecycle: buy-till-you-die purchase models and customer lifetime value; activity
sequences, hidden-Markov lifecycle states and segment transitions. Plain Python: no Django.

:func:`segmentation.lifecycle.summary.summarise` turns an events frame into each customer's
frequency, recency and age in weeks as of a date; :mod:`~segmentation.lifecycle.bgnbd` and
:mod:`~segmentation.lifecycle.pareto_nbd` fit the purchase models and
:mod:`~segmentation.lifecycle.gamma_gamma` the spend model by maximum likelihood;
:mod:`~segmentation.lifecycle.clv` combines them into the ``clv`` feature group and its metrics.

:func:`segmentation.lifecycle.sequences.activity` turns events into per-customer per-period
activity; :func:`segmentation.lifecycle.states.fit_states` fits an HMM on it (states chosen by
BIC, named by behaviour) with each customer's current state and churn probability;
:mod:`segmentation.lifecycle.transitions` measures movement between two labelings.
"""

from .hmm import ActivityHMM
from .sequences import Sequences, activity, from_arrays
from .states import Lifecycle, fit_states, name_states, next_probabilities, next_state_distribution
from .transitions import SegmentTransitions, likely_movers, predicted_shares, segment_transitions

__all__ = [
    "ActivityHMM",
    "Lifecycle",
    "SegmentTransitions",
    "Sequences",
    "activity",
    "fit_states",
    "from_arrays",
    "likely_movers",
    "name_states",
    "next_probabilities",
    "next_state_distribution",
    "predicted_shares",
    "segment_transitions",
]
