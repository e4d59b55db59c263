"""What every engine clusterer promises scikit-learn: checked input, fitted state, declared tags.

The engine's own clusterers (hierarchical, spectral, density, mixed) inherit from
:class:`EngineClusterer`, so they read their input as scikit-learn's estimators do and pass
``sklearn.utils.estimator_checks`` (tests/segmentation/test_estimator_checks.py): ``fit``
records ``n_features_in_`` and refuses sparse, complex, empty, one-row and (unless the method
handles missing values) NaN or infinite input with scikit-learn's messages; ``predict`` raises
``NotFittedError`` before ``fit`` and refuses rows of another width.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

# One row has no neighbour, no merge partner and no density: every method here needs two.
MIN_FIT_ROWS = 2


class EngineClusterer(ClusterMixin, BaseEstimator):
    """Base of the engine's clusterers: validated float64 input and the tags that describe it."""

    # Whether a missing value (NaN) is data the method understands; infinity never is.
    _handles_missing = False

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        # Every method measures distances between dense rows; a sparse matrix is refused, not
        # densified behind the caller's back.
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = self._handles_missing
        return tags

    def _fit_input(self, X: object) -> np.ndarray:
        """The training rows as a float64 matrix; sets ``n_features_in_``."""
        return validate_data(
            self,
            X,
            dtype=np.float64,
            ensure_min_samples=MIN_FIT_ROWS,
            ensure_all_finite="allow-nan" if self._handles_missing else True,
        )

    def _predict_input(self, X: object) -> np.ndarray:
        """Rows to label, as a float64 matrix as wide as the training rows."""
        check_is_fitted(self)
        return validate_data(
            self,
            X,
            dtype=np.float64,
            reset=False,
            ensure_all_finite="allow-nan" if self._handles_missing else True,
        )
