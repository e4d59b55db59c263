"""Out-of-time validation: segments chosen on a log up to 'as_of' checked against what their
customers did after it, with every figure recomputed by scipy and statsmodels."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from segmentation import SegmentationSpec, clean_transactions, segment
from segmentation.data.future import behaviour_after
from segmentation.explain.out_of_time import out_of_time_check
from segmentation.synthetic.customers import customer_table
from tests.segmentation.later_log import AS_OF, planted_log

LOG = {
    "id_column": "customer_id",
    "input_kind": "transactions",
    "timestamp_column": "timestamp",
    "amount_column": "amount",
    "k_min": 3,
    "k_max": 3,
    "algorithms": ["kmeans"],
    "stability_resamples": 0,
}


@pytest.fixture(scope="module")
def run():  # type: ignore[no-untyped-def]
    log = planted_log()
    # A declared yes/no outcome unrelated to the groups: one family of tests with the later behaviour.
    rng = np.random.default_rng(1)
    ids = log["customer_id"].unique()
    complained = dict(zip(ids, rng.choice(["Yes", "No"], size=len(ids), p=[0.2, 0.8]), strict=True))
    log["complained"] = log["customer_id"].map(complained)
    spec = SegmentationSpec.from_dict({**LOG, "as_of": AS_OF, "outcome_columns": ["complained"]})
    return log, segment(log, spec)


def _reference_frame(log: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Each segmented customer's behaviour after as_of, computed from the raw log with pandas."""
    later = log[log["timestamp"] >= pd.Timestamp(AS_OF)]
    purchases = later[later["amount"] > 0]
    frame = labels[["customer_id", "segment"]].copy()
    frame["bought_again"] = frame["customer_id"].isin(purchases["customer_id"]).astype(float)
    spend = purchases.groupby("customer_id")["amount"].sum()
    frame["spend_after_as_of"] = frame["customer_id"].map(spend).fillna(0.0)
    frame["planted"] = frame["customer_id"].map(log.groupby("customer_id")["planted"].first())
    return frame


def test_the_window_runs_from_as_of_to_the_logs_last_day_and_counts_who_came_back(run):
    log, result = run
    check = result.metrics["out_of_time"]
    assert check["possible"] is True and check["reason"] is None
    assert (check["as_of"], check["window_start"], check["window_end"]) == (AS_OF, AS_OF, "2025-09-30")
    assert check["window_days"] == (dt.date(2025, 9, 30) - dt.date(2025, 7, 1)).days + 1
    frame = _reference_frame(log, result.labels)
    assert check["customers"] == len(frame) == result.metrics["customers"]
    assert check["customers_returned"] == int(frame["bought_again"].sum())
    assert check["new_customers"] == 6  # seen only after as_of: in no segment, not measured
    segmented = log["customer_id"].isin(frame["customer_id"])
    assert check["events_in_window"] == int((segmented & (log["timestamp"] >= pd.Timestamp(AS_OF))).sum())
    # the typed reading carries the same check
    view = result.metrics_view.out_of_time
    assert view.recorded and view.possible and view.window_days == check["window_days"]
    assert [o.outcome for o in view.outcomes] == ["bought_again", "spend_after_as_of"]


def test_the_segment_planted_to_keep_buying_comes_back_and_the_lapsed_do_not(run):
    log, result = run
    frame = _reference_frame(log, result.labels)
    home = frame.groupby("planted")["segment"].agg(lambda s: s.mode().iloc[0])
    bought, spend = result.metrics["out_of_time"]["outcomes"]
    rates = {s["segment"]: s for s in bought["segments"]}
    loyal, lapsed = rates[int(home["loyal"])], rates[int(home["lapsed"])]
    assert loyal["rate"] > 0.8 > 0.2 > lapsed["rate"]
    assert loyal["rate"] == max(s["rate"] for s in bought["segments"])
    assert loyal["p_adjusted"] < 0.001 and lapsed["p_adjusted"] < 0.001
    assert bought["p_adjusted"] < 0.001 and spend["p_adjusted"] < 0.001
    assert loyal["rest_rate"] < 0.5
    spends = {s["segment"]: s["mean"] for s in spend["segments"]}
    assert spends[int(home["loyal"])] == max(spends.values())


def test_every_figure_equals_scipy_and_statsmodels_on_the_same_arrays(run):
    log, result = run
    frame = _reference_frame(log, result.labels)
    bought, spend = result.metrics["out_of_time"]["outcomes"]
    segments = sorted(frame["segment"].unique())

    table = pd.crosstab(frame["segment"], frame["bought_again"]).to_numpy()
    chi2, p, _, expected = stats.chi2_contingency(table, correction=False)
    assert (expected >= 5).all() and bought["p_value_method"] == "asymptotic"
    assert bought["test"] == "chi_square"
    assert bought["statistic"] == pytest.approx(chi2) and bought["p_value"] == pytest.approx(p, rel=1e-9)
    assert bought["effect_size"] == pytest.approx(np.sqrt(chi2 / table.sum()))

    groups = [frame.loc[frame["segment"] == s, "spend_after_as_of"].to_numpy() for s in segments]
    h, p = stats.kruskal(*groups)
    assert spend["test"] == "kruskal_wallis"
    assert spend["statistic"] == pytest.approx(h) and spend["p_value"] == pytest.approx(p, rel=1e-9)
    n = len(frame)
    assert spend["effect_size"] == pytest.approx(h * (n + 1) / (n * n - 1))

    for s, entry_b, entry_s in zip(segments, bought["segments"], spend["segments"], strict=True):
        inside = (frame["segment"] == s).to_numpy()
        came = frame["bought_again"].to_numpy()
        low, high = proportion_confint(int(came[inside].sum()), int(inside.sum()), method="wilson")
        assert (entry_b["ci_low"], entry_b["ci_high"]) == pytest.approx((low, high))
        split = [[int((came[m] == o).sum()) for o in (0.0, 1.0)] for m in (inside, ~inside)]
        assert entry_b["p_value"] == pytest.approx(stats.fisher_exact(split).pvalue, rel=1e-9)
        assert entry_b["rest_rate"] == pytest.approx(came[~inside].mean())
        money = frame["spend_after_as_of"].to_numpy()
        assert entry_s["mean"] == pytest.approx(money[inside].mean())
        mean_ci = stats.t.interval(
            0.95, inside.sum() - 1, loc=money[inside].mean(), scale=stats.sem(money[inside])
        )
        assert (entry_s["ci_low"], entry_s["ci_high"]) == pytest.approx(mean_ci)
        assert entry_s["p_value"] == pytest.approx(stats.mannwhitneyu(money[inside], money[~inside]).pvalue)

    # One Benjamini-Hochberg family with the declared outcome: overall tests, then per segment.
    declared = result.metrics["outcomes"]
    family = [*declared, bought, spend]
    overall = multipletests([o["p_value"] for o in family], method="fdr_bh")[1]
    assert [o["p_adjusted"] for o in family] == pytest.approx(overall.tolist())
    per_segment = [s for o in family for s in o["segments"]]
    adjusted = multipletests([s["p_value"] for s in per_segment], method="fdr_bh")[1]
    assert [s["p_adjusted"] for s in per_segment] == pytest.approx(adjusted.tolist())
    assert all(o["p_adjusted"] >= o["p_value"] for o in family)


def test_a_sparse_small_sample_gets_a_monte_carlo_p_and_refund_only_customers_did_not_come_back():
    rows = [(f"C{i}", "2025-03-01", 20.0 + i) for i in range(12)]
    rows += [("C0", "2025-07-02", 15.0), ("C1", "2025-07-05", 30.0), ("C1", "2025-07-06", -30.0)]
    rows += [("C2", "2025-07-03", -20.0)]  # only a refund after as_of
    rows += [("N1", "2025-07-04", 99.0)]  # new after as_of
    log = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])
    spec = SegmentationSpec.from_dict({**LOG, "as_of": AS_OF})
    future = behaviour_after(clean_transactions(log, spec).frame, as_of=dt.date(2025, 7, 1))
    assert future.window["window_days"] == 6 and future.window["new_customers"] == 1
    behaviour = future.frame.set_index("customer_id")
    assert behaviour.loc["C1", "spend_after_as_of"] == 30.0  # the refund is not subtracted
    assert behaviour.loc["C2", "bought_again"] == 0.0 and behaviour.loc["C5", "bought_again"] == 0.0

    labels = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2])
    ids = [f"C{i}" for i in range(12)]
    check = out_of_time_check(labels, ids, future, seed=3)
    bought = check["outcomes"][0]
    assert bought["p_value_method"].startswith("monte_carlo")
    table = np.array([[3 - 2, 2], [4, 0], [5, 0]])
    chi2 = stats.chi2_contingency(table, correction=False)[0]
    assert bought["statistic"] == pytest.approx(chi2)
    assert bought["segments"][0]["rate"] == pytest.approx(2 / 3)


def test_a_log_that_ends_before_as_of_says_no_out_of_time_check_is_possible():
    log = planted_log()
    log = log[log["timestamp"] < pd.Timestamp(AS_OF)]
    spec = SegmentationSpec.from_dict(LOG)  # the default as_of: the day after the last event
    metrics = segment(log, spec).metrics
    check = metrics["out_of_time"]
    assert check["possible"] is False and check["outcomes"] == []
    last = log["timestamp"].max().date()
    assert f"the log ends on {last.isoformat()}, before 'as_of' ({metrics['as_of']})" in check["reason"]
    assert "set 'as_of' earlier" in check["reason"]
    assert check["window_days"] == 0 and check["window_end"] is None

    frame, _ = customer_table(120, seed=4)
    table_spec = {
        "id_column": "customer_id",
        "numeric_columns": ["recency_days", "orders_per_year", "avg_basket"],
        "k_min": 2,
        "k_max": 3,
        "algorithms": ["kmeans"],
        "stability_resamples": 0,
    }
    check = segment(frame, SegmentationSpec.from_dict(table_spec)).metrics["out_of_time"]
    assert check["possible"] is False and "customer table" in check["reason"]
