"""Portal forms: all user-input validation happens here, at the edge (the run form: run_form.py)."""

from __future__ import annotations

from typing import Any

from django import forms

from segplatform.errors import ApplicationError

from .services import upload_size_check


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
        return checked_upload(self.cleaned_data["file"])


def checked_upload(upload: Any) -> Any:
    """An uploaded file within the size limit and not empty, or the form error saying which."""
    try:
        upload_size_check(upload.name, upload.size)
    except ApplicationError as error:
        raise forms.ValidationError(error.message) from None
    if upload.size == 0:
        raise forms.ValidationError("The file is empty.")
    return upload
