"""Typed, read-only parts of the metrics a run stores (read through :class:`segmentation.result.RunMetrics`)."""
