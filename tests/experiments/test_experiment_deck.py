"""experiment.pptx from an analysis written by hand (no database): several arms, an estimate the
engine could not make, a sample-ratio mismatch, and the intervals drawn as the chart's error bars."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
from pptx import Presentation
from pptx.oxml.ns import qn

from experiments.deck import experiment_deck, nice_scale

VERSION = SimpleNamespace(
    label="v3",
    version_hash="ab" * 32,
    project=SimpleNamespace(name="Loyalty", client=SimpleNamespace(name="Acme")),
)
DESIGN = {
    "experiment": "Three arms",
    "arms": [{"name": "control", "ratio": 2}, {"name": "a", "ratio": 1}, {"name": "b", "ratio": 1}],
    "alpha": 0.05,
    "power": 0.8,
    "seed": 1,
    "primary": {"name": "spend", "kind": "continuous"},
    "counts": [
        {"segment": 0, "customers": 400, "arms": {"control": 200, "a": 100, "b": 100}},
        {"segment": 1, "customers": 40, "arms": {"control": 20, "a": 10, "b": 10}},
    ],
    "segments_too_small": [1],
}


def effect(segment, arm, method, estimate, low, high):  # type: ignore[no-untyped-def]
    return {
        "segment": segment,
        "metric": "spend",
        "arm": arm,
        "method": method,
        "estimate": estimate,
        "ci_low": low,
        "ci_high": high,
        "p_value": None if estimate is None else 0.01,
        "p_adjusted": None if estimate is None else 0.02,
        "n_control": 200,
        "n_treatment": 100,
        "exploratory": False,
    }


ANALYSIS = {
    "effects": [
        effect(0, "a", "welch_t", 1.5, 0.5, 2.5),
        effect(0, "b", "welch_t", -0.25, -1.75, 1.25),
        effect(1, "a", "welch_t", None, None, None),
        effect("all", "a", "post_stratified", 1.25, 0.25, 3.0),
    ],
    "srm": [
        {
            "segment": 0,
            "arm": "control",
            "expected_share": 0.5,
            "observed": 260,
            "expected": 200.0,
            "p_value": 1e-5,
            "flagged": True,
        },
        {
            "segment": 0,
            "arm": "a",
            "expected_share": 0.25,
            "observed": 70,
            "expected": 100.0,
            "p_value": 1e-5,
            "flagged": True,
        },
    ],
    "srm_flagged": ["0"],
    "heterogeneity": {"spend": {"q": 2.5, "df": 1, "p_value": 0.11, "i2": 0.6}},
}


def test_the_deck_shows_every_arm_the_intervals_and_the_checks():
    deck = Presentation(
        io.BytesIO(experiment_deck(version=VERSION, design=DESIGN, analysis=ANALYSIS, registered=True))
    )
    assert len(deck.slides) == 4
    texts = [
        "\n".join(
            [s.text_frame.text for s in slide.shapes if s.has_text_frame]
            + [c.text for s in slide.shapes if s.has_table for r in s.table.rows for c in r.cells]
        )
        for slide in deck.slides
    ]
    assert "Three arms: experiment on v3" in texts[0] and "Acme · Loyalty" in texts[0]
    assert "Segment 1" in texts[1] and "too small" in texts[1] and "control (2), a (1), b (1)" in texts[1]
    metric = texts[2]
    assert "Arm" in metric and "-0.25" in metric and "-1.75 to 1.25" in metric
    assert "— to —" in metric  # the estimate the engine could not make is shown as missing
    assert "Sample-ratio mismatch in Segment 0" in texts[3] and "Q 2.5 on 1 df" in texts[3]
    assert not any("Exploratory" in t for t in texts)

    chart = next(s for s in deck.slides[2].shapes if s.has_chart).chart
    assert list(chart.plots[0].categories) == ["Segment 0 · a", "Segment 0 · b", "All customers · a"]
    shown = [r for r in ANALYSIS["effects"] if r["estimate"] is not None]
    np.testing.assert_allclose(chart.plots[0].series[0].values, [r["estimate"] for r in shown])
    bars = chart.plots[0].series[0]._element.find(qn("c:errBars"))
    plus, minus = (
        [float(v.text) for v in bars.find(qn(tag)).iter(qn("c:v"))] for tag in ("c:plus", "c:minus")
    )
    np.testing.assert_allclose(plus, [r["ci_high"] - r["estimate"] for r in shown])
    np.testing.assert_allclose(minus, [r["estimate"] - r["ci_low"] for r in shown])
    axis = chart.value_axis
    assert axis.minimum_scale <= -1.75 and axis.maximum_scale >= 3.0  # the intervals fit the scale


def test_an_unregistered_design_marks_every_slide_exploratory():
    data = experiment_deck(version=VERSION, design=DESIGN, analysis=ANALYSIS, registered=False)
    deck = Presentation(io.BytesIO(data))
    for slide in deck.slides:
        assert any(s.has_text_frame and s.text_frame.text == "Exploratory" for s in slide.shapes)
        assert "not registered" in slide.notes_slide.notes_text_frame.text


def test_the_scale_has_round_ticks_around_zero():
    assert nice_scale(-0.753, 0.539) == (-1.0, 1.0, 0.5)
    assert nice_scale(0.0, 5.39) == (0.0, 6.0, 1.0)
    low, high, step = nice_scale(0.0, 0.0)
    assert low == 0.0 and high > 0 and step > 0
