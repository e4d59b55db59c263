"""Portal forms: all user-input validation happens here, at the edge."""

from __future__ import annotations

from typing import Any

from django import forms

from projects.models import Dataset
from segmentation import SegmentationError, check_bounds
from segmentation.clustering.algorithms import ALGORITHMS, MIXED
from segmentation.clustering.sweep import default_algorithms
from segplatform.errors import ApplicationError

from .services import upload_size_check

# The portal clusters numeric columns: the mixed-type algorithms are for specs with categories.
NUMERIC_ALGORITHMS = [a for a in ALGORITHMS if a not in MIXED]


class UploadForm(forms.Form):
    file = forms.FileField(
        help_text="A customer table (one row per customer) or a transaction log: CSV (comma, "
        "semicolon or tab separated), Parquet or Excel (.xlsx).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.parquet,.pq,.xlsx,.xlsm,text/csv"}),
    )
    id_column = forms.CharField(
        max_length=255,
        required=False,
        label="Customer id column",
        help_text="Leave blank to detect it (a column named like customer_id, or the first column).",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        try:
            upload_size_check(upload.name, upload.size)
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from None
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload


class RunForm(forms.Form):
    numeric_columns = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        label="Cluster on",
        help_text="Numeric columns used as features.",
    )
    algorithms = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        choices=[(a, a.replace("_", " ")) for a in NUMERIC_ALGORITHMS],
        initial=default_algorithms(False),
        required=False,
        help_text="Tried side by side; the best by silhouette and stability wins (none ticked: "
        "the defaults). Agglomerative also draws a dendrogram.",
    )
    k_min = forms.IntegerField(label="Fewest segments", min_value=2, max_value=30, initial=2)
    k_max = forms.IntegerField(label="Most segments", min_value=2, max_value=30, initial=6)
    random_state = forms.IntegerField(label="Random seed", min_value=0, max_value=2**32 - 1, initial=0)

    def __init__(self, *args: Any, dataset: Dataset, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dataset = dataset
        choices = [(c, c) for c in dataset.numeric_columns]
        self.fields["numeric_columns"].choices = choices
        self.fields["numeric_columns"].initial = [c for c, _ in choices]
        self.fields["k_max"].initial = max(2, min(6, dataset.row_count - 1))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        k_min, k_max = data.get("k_min"), data.get("k_max")
        if k_min is not None and k_max is not None:
            # The engine's own check and wording, as the run service and the API give them.
            try:
                check_bounds(k_min=k_min, k_max=k_max, rows=self.dataset.row_count)
            except SegmentationError as error:
                self.add_error(error.key if error.key in self.fields else None, str(error))
        return data

    def spec(self) -> dict[str, Any]:
        spec = {
            "id_column": self.dataset.id_column,
            "numeric_columns": list(self.cleaned_data["numeric_columns"]),
            "k_min": self.cleaned_data["k_min"],
            "k_max": self.cleaned_data["k_max"],
            "random_state": self.cleaned_data["random_state"],
        }
        ticked = self.cleaned_data.get("algorithms") or default_algorithms(False)
        chosen = [a for a in NUMERIC_ALGORITHMS if a in ticked]
        # The engine's default is left implicit, so a default run's spec (and hash) is unchanged.
        if set(chosen) != set(default_algorithms(False)):
            spec["algorithms"] = chosen
        return spec
