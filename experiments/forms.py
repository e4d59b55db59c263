"""The portal's forms of an experiment: its design, a reviewer's decision, and outcomes to analyse.

The forms read the fields; whether the design makes sense (arms, levels, metrics, rho) is the
engine's to say, so its messages reach the form unchanged.
"""

from __future__ import annotations

from typing import Any

from django import forms

from runs.forms import checked_upload

KIND_CHOICES = [("continuous", "Continuous (a mean)"), ("binary", "Binary (a rate)")]


def _guardrail(line: str) -> dict[str, Any]:
    """``name:kind`` with an optional ``:baseline`` and ``:sd`` (the engine checks the values)."""
    parts = [p.strip() for p in line.split(":")]
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise forms.ValidationError(
            f"guardrail {line!r}: write one a line as name:kind, e.g. complaints:binary:0.02"
        )
    if len(parts) < 3 or not parts[2]:
        raise forms.ValidationError(
            f"guardrail {parts[0]!r} needs its baseline in the control arm: name:kind:baseline "
            "(a rate for a binary metric; a mean and then :sd for a continuous one)"
        )
    try:
        numbers = [float(p) for p in parts[2:4]]
    except ValueError:
        raise forms.ValidationError(
            f"guardrail {parts[0]!r}: the baseline and sd after the kind are numbers"
        ) from None
    return {
        "name": parts[0],
        "kind": parts[1],
        "baseline": numbers[0],
        "sd": numbers[1] if len(numbers) > 1 else None,
        "mde": 0.0,
    }


class DesignForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="What the client calls the experiment.")
    arms = forms.CharField(
        initial="control:1,treatment:1",
        max_length=500,
        help_text="name:ratio separated by commas; the first arm is the control.",
    )
    seed = forms.IntegerField(initial=0, help_text="With the version's hash, it fixes who gets which arm.")
    alpha = forms.FloatField(initial=0.05, label="α", help_text="Two-sided level of each test.")
    power = forms.FloatField(initial=0.8, help_text="The power the sample sizes are planned for.")
    metric_name = forms.CharField(
        required=False,
        max_length=255,
        label="Primary metric",
        help_text="The outcome column the experiment is planned on; blank: no power table.",
    )
    metric_kind = forms.ChoiceField(choices=KIND_CHOICES, initial="continuous", label="Kind")
    baseline = forms.FloatField(
        required=False, help_text="Its rate (binary) or mean (continuous) in the control arm."
    )
    sd = forms.FloatField(
        required=False,
        label="Standard deviation",
        help_text="Continuous only: its spread in the control arm.",
    )
    mde = forms.FloatField(
        required=False,
        label="Minimum detectable effect",
        help_text="An absolute difference in rate or mean.",
    )
    guardrails = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One a line as name:kind:baseline (and :sd for a continuous one): watched, not planned on.",
    )
    hypotheses = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    analysis_plan = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Adjusted p-values use Holm's method unless the plan names Benjamini–Hochberg "
        "(or the false discovery rate), which it then uses instead.",
    )
    covariate = forms.CharField(
        required=False, max_length=255, help_text="A pre-period column for CUPED, checked for balance too."
    )
    rho = forms.FloatField(
        required=False,
        label="ρ",
        help_text="The covariate's expected correlation with the metric: the power with CUPED's variance.",
    )

    def clean_guardrails(self) -> list[dict[str, Any]]:
        lines = [line.strip() for line in self.cleaned_data["guardrails"].splitlines()]
        return [_guardrail(line) for line in lines if line]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("metric_name"):
            for key, words in (("baseline", "its baseline"), ("mde", "the minimum detectable effect")):
                if data.get(key) is None and key not in self.errors:
                    self.add_error(key, f"the primary metric needs {words}")
        return data

    def design_asked(self) -> dict[str, Any]:
        """The design as :func:`experiments.services.experiment_create` takes it."""
        data = self.cleaned_data
        asked: dict[str, Any] = {
            "arms": data["arms"],
            "seed": data["seed"],
            "alpha": data["alpha"],
            "power": data["power"],
            "guardrails": data["guardrails"],
            "hypotheses": data["hypotheses"],
            "analysis_plan": data["analysis_plan"],
            "covariate": data["covariate"] or None,
            "rho": data["rho"],
        }
        if data["metric_name"]:
            asked["primary"] = {
                "name": data["metric_name"].strip(),
                "kind": data["metric_kind"],
                "baseline": data["baseline"],
                "sd": data["sd"],
                "mde": data["mde"],
            }
        return asked


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[("register", "Register"), ("reject", "Reject")])
    reason = forms.CharField(required=False, max_length=2000)


class AnalyseForm(forms.Form):
    file = forms.FileField(
        label="Outcomes",
        help_text="One row a customer: the version's id column and one column a metric (CSV, Parquet or Excel).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.parquet,.pq,.xlsx,.xlsm,text/csv"}),
    )
    metrics = forms.CharField(max_length=2000, help_text="The outcome columns to analyse, comma-separated.")
    covariate = forms.CharField(
        required=False, max_length=255, help_text="A pre-period column for CUPED, if the design names one."
    )

    def clean_file(self) -> Any:
        return checked_upload(self.cleaned_data["file"])

    def clean_metrics(self) -> list[str]:
        names = [m.strip() for m in self.cleaned_data["metrics"].split(",") if m.strip()]
        if not names:
            raise forms.ValidationError("name at least one outcome column to analyse")
        return list(dict.fromkeys(names))
