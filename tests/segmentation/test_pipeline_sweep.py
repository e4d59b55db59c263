"""The pipeline reads the engine's newer spec keys (algorithms, selection, stability_resamples,
categorical and outcome columns) with getattr, so it works before and after the spec grows them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmentation import SegmentationSpec, segment
from segmentation.synthetic.customers import customer_table


@dataclass(frozen=True)
class GrownSpec(SegmentationSpec):
    """The foundation's spec with the keys the engine's spec work adds."""

    algorithms: tuple[str, ...] | None = None
    selection: str = "combined"
    stability_resamples: int = 20
    categorical_columns: tuple[str, ...] = ()
    outcome_columns: tuple[str, ...] = ()


def grown(**keys) -> GrownSpec:  # type: ignore[no-untyped-def]
    base = {"id_column": "customer_id", "numeric_columns": ("recency_days", "orders_per_year", "avg_basket")}
    return GrownSpec(**{**base, "k_min": 2, "k_max": 5, **keys})


def test_the_silhouette_rule_and_the_chosen_algorithms_are_honoured():
    frame, _ = customer_table(600, seed=1)
    result = segment(
        frame, grown(algorithms=("kmeans", "hdbscan"), selection="silhouette", stability_resamples=3)
    )
    assert {c["algorithm"] for c in result.metrics["candidates"]} == {"kmeans", "hdbscan"}
    assert result.metrics["selected"]["reason"].startswith("highest silhouette")
    selected = result.metrics["selected"]
    rule = {"kmeans": "nearest cluster centre", "hdbscan": "exemplars per segment"}[selected["algorithm"]]
    assert rule in selected["assignment"] and 0.9 < selected["assignment_agreement"] <= 1


def test_outcome_columns_give_rates_with_intervals_and_a_test_of_association():
    frame, truth = customer_table(600, seed=2)
    frame["churned"] = np.where(truth == 2, "1", "0")
    frame.loc[0, "churned"] = ""
    result = segment(
        frame,
        grown(
            algorithms=("kmeans",),
            stability_resamples=3,
            outcome_columns=("churned",),
            categorical_columns=("region",),
            # Churn is planted on the lapsing one-timers, the far tail of raw recency; this test is
            # about the outcome figures, so it clusters on z-scores as it always did (with the
            # field's logs, the combined rule picks k = 2 here over a k = 4 that is 0.007 less stable).
            default_transform="zscore",
        ),
    )
    (outcome,) = result.metrics["outcomes"]
    assert outcome["test"] == "chi_square" and outcome["effect_size"] > 0.5
    assert outcome["rows_left_out"] == 1
    assert {"churned_rate", "churned_ci_low", "churned_ci_high", "region_top"} <= set(result.profile.columns)
