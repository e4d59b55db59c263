"""Customer lifecycle models: buy-till-you-die purchase models and customer lifetime value.

:func:`segmentation.lifecycle.summary.summarise` turns an events frame into each customer's
frequency, recency and age in weeks as of a date; :mod:`~segmentation.lifecycle.bgnbd` and
:mod:`~segmentation.lifecycle.pareto_nbd` fit the purchase models and
:mod:`~segmentation.lifecycle.gamma_gamma` the spend model by maximum likelihood;
:mod:`~segmentation.lifecycle.clv` combines them into the ``clv`` feature group and its metrics.
"""
