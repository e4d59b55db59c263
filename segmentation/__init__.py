"""Segplatform's segmentation engine: plain Python on pandas, NumPy and scikit-learn.

Nothing here imports Django, so every statistical step can be tested without a database.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .compare import compare_segmentations
from .data.features import FeatureTable, customer_features
from .data.io import id_text, read_csv_bytes, read_input, read_table
from .data.transactions import Events, clean_transactions
from .errors import SegmentationError, SpecError
from .model.artefact import CentroidModel, SegmentationModel, load_model
from .pipeline import segment, version_hash
from .result import RunMetrics, SegmentationResult
from .spec import SegmentationSpec, check_bounds

__all__ = [
    "CentroidModel",
    "Events",
    "FeatureTable",
    "RunMetrics",
    "SegmentationError",
    "SegmentationModel",
    "SegmentationResult",
    "SegmentationSpec",
    "SpecError",
    "check_bounds",
    "clean_transactions",
    "compare_segmentations",
    "customer_features",
    "id_text",
    "load_model",
    "read_csv_bytes",
    "read_input",
    "read_table",
    "segment",
    "version_hash",
]
