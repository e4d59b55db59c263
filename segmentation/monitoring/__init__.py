"""Monitoring a deployed segmentation: how far new data has moved from the version's reference.

:func:`segmentation.monitoring.report.monitor` scores the current customers with the frozen model
and compares them with the reference customers the version was built on: every feature (a test
chosen by type and size, plus PSI), the segment shares, per-segment feature drift, the customers
present in both (migration between segments), the share of customers far from every segment
(novelty) and a refit's agreement with the deployed labels. Each check has a level, ``none``,
``warning`` or ``drift``, from :class:`segmentation.monitoring.levels.Thresholds`.
"""
