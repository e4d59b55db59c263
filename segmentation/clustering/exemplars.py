"""Clusterers that fit on a bounded number of rows and label every other row by its nearest exemplar.

Density, hierarchical and spectral methods cost more than linearly in rows, so beyond a limit
they fit on a seeded sample and the rest of the customers take the label of the nearest
exemplar (a fitted row or a micro-cluster centre), optionally with a noise radius.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.neighbors import NearestNeighbors

from .contract import EngineClusterer
from .sampling import subsample


def sampled_note(n: int, size: int, how: str) -> str:
    """The report's sentence for a fit on a sample: how many rows, and how the rest were labelled."""
    return f"fitted on a random sample of {size:,} of {n:,} customers; the rest {how}"


class ExemplarClusterer(EngineClusterer):
    """Base for clusterers that assign rows to the label of their nearest exemplar.

    Subclasses implement ``_fit_rows(X) -> labels`` on at most ``_max_rows`` rows and may set
    ``noise_radius_``: a row farther than it from every exemplar is noise (``-1``).
    """

    _max_rows: int  # each subclass's limit, from what its fit costs

    def fit(self, X: np.ndarray, y: Any = None) -> ExemplarClusterer:
        X = self._fit_input(X)
        n = len(X)
        index = subsample(n, self._max_rows, self.random_state)
        rows = X if index is None else X[index]
        self.noise_radius_: float | None = None
        self.note_ = ""
        self.exemplars_: np.ndarray | None = None
        fitted = self._fit_rows(rows)
        if self.exemplars_ is None:
            self.exemplars_, self.exemplar_labels_ = rows, fitted
        if index is None:
            self.labels_ = fitted
        else:
            self.labels_ = self.predict(X)
            self.labels_[index] = fitted
            self.note_ = sampled_note(
                n, len(index), "assigned to the segment of the nearest sampled customer"
            )
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = self._predict_input(X)
        search = NearestNeighbors(n_neighbors=1).fit(self.exemplars_)
        distance, nearest = search.kneighbors(X)
        labels = np.asarray(self.exemplar_labels_)[nearest[:, 0]].astype(np.int64)
        if self.noise_radius_ is not None:
            labels[distance[:, 0] > self.noise_radius_] = -1
        return labels

    def _fit_rows(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError
