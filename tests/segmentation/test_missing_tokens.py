"""Missing values written as words (NA, N/A, null, None, -) are missing in ids and numbers.

The retail log of the issue: 5,078 rows whose id was the text ``NA`` became one customer with
5,022 purchases, a segment of its own, while data quality reported no row without an id.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation import SegmentationSpec, id_text, segment
from segmentation.data.customer_table import build_customer_table
from segmentation.data.profile import profile_table
from segmentation.data.transactions import clean_transactions
from segmentation.model.reading import read_numeric
from segmentation.synthetic.customers import customer_table
from segmentation.synthetic.transactions import transaction_log

TOKENS = ["NA", "N/A", "null", "-", " None ", "na"]


def retail_log_with_anonymous_rows(share: float = 0.2, *, seed: int = 3) -> pd.DataFrame:
    """A generated log (as text, as a CSV arrives) where a fifth of the purchases carry no
    customer id, written in the ways exports write one."""
    log, _ = transaction_log(150, seed=seed)
    log = log.astype({"customer_id": object})
    log["timestamp"] = log["timestamp"].dt.strftime("%Y-%m-%d %H:%M")
    rng = np.random.default_rng(seed)
    anonymous = rng.random(len(log)) < share
    log.loc[anonymous, "customer_id"] = rng.choice(TOKENS, size=int(anonymous.sum()))
    return log.astype(str)


LOG_SPEC = {
    "id_column": "customer_id",
    "input_kind": "transactions",
    "timestamp_column": "timestamp",
    "amount_column": "amount",
}


def test_rows_whose_id_is_a_missing_word_are_dropped_counted_and_make_no_customer():
    log = retail_log_with_anonymous_rows()
    anonymous = log["customer_id"].str.strip().str.lower().isin({"na", "n/a", "null", "-", "none"})

    events = clean_transactions(log, SegmentationSpec.from_dict(LOG_SPEC))

    assert events.quality["rows_without_id"] == int(anonymous.sum()) > 100
    assert events.quality["dropped"]["no customer id"] == int(anonymous.sum())
    words = events.quality["missing_id_words"]
    assert sum(words.values()) == int(anonymous.sum()) and {"NA", "N/A", "null", "-", "None", "na"} == set(
        words
    )
    customers = set(events.frame["customer_id"].astype(str))
    assert customers == set(log.loc[~anonymous, "customer_id"])
    # no giant customer: the busiest has as many purchases as the busiest real one
    assert (
        events.frame["customer_id"].value_counts().max()
        == log.loc[~anonymous, "customer_id"].value_counts().max()
    )


def test_a_customer_table_drops_missing_word_ids_and_reads_missing_word_numbers_as_missing():
    frame, _ = customer_table(300, seed=4, messy=False)
    frame.loc[[0, 1, 2], "customer_id"] = ["NA", "null", " - "]
    frame.loc[[10, 11, 12, 13], "avg_basket"] = ["N/A", "NA", "None", "-"]
    frame.loc[14, "avg_basket"] = "about ten"  # a word that is no missing token stays unparsable
    spec = SegmentationSpec.from_dict(
        {
            "id_column": "customer_id",
            "numeric_columns": ["avg_basket", "orders_per_year"],
            "k_min": 2,
            "k_max": 3,
        }
    )

    table = build_customer_table(frame, spec)
    result = segment(frame, spec)

    assert table.quality["rows_without_id"] == 3
    assert table.quality["missing_id_words"] == {"NA": 1, "null": 1, "-": 1}
    assert len(result.labels) == 297 and not result.labels["customer_id"].isin(["NA", "null", "-"]).any()
    assert result.metrics["data_quality"]["rows_without_id"] == 3
    assert result.metrics["missing"]["avg_basket"] == 5  # four words and "about ten"
    assert result.metrics["unparsable"]["avg_basket"] == 1  # only "about ten"


def test_ids_and_numbers_read_the_tokens_as_missing_everywhere():
    assert id_text(pd.Series(["A1", " NA ", "n/a", "NULL", "None", "-", "", "NAB"])).isna().tolist() == [
        False,
        True,
        True,
        True,
        True,
        True,
        True,
        False,
    ]
    # the scoring path: a column of only missing words is missing, not "text where a number goes"
    values = read_numeric(pd.DataFrame({"spend": ["NA", "null", "-"]}, dtype=object), "spend")
    assert np.isnan(values).all()


def test_the_upload_profile_counts_missing_words_as_missing_and_keeps_the_column_a_number():
    frame, _ = customer_table(200, seed=5, messy=False)
    frame.loc[:59, "avg_basket"] = "NA"  # 30% missing, written as a word

    profile = profile_table(frame, "customer_id")

    column = next(c for c in profile.columns if c.name == "avg_basket")
    assert column.kind == "number" and column.missing_share == 0.3
