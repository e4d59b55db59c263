"""The monitoring page's upload of current data."""

from __future__ import annotations

from typing import Any

from django import forms

from runs.forms import checked_upload


class CurrentDataForm(forms.Form):
    file = forms.FileField(
        label="Current data",
        help_text="The same kind of table the version was built from (its columns, a customer table or a "
        "transaction log), as it is now: CSV, Parquet or Excel (.xlsx).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.parquet,.pq,.xlsx,.xlsm,text/csv"}),
    )

    def clean_file(self) -> Any:
        return checked_upload(self.cleaned_data["file"])
