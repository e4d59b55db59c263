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


class DataSourceForm(forms.Form):
    url = forms.CharField(
        label="PostgreSQL URL",
        max_length=2000,
        widget=forms.PasswordInput(render_value=False),
        help_text="postgresql://user:password@host:5432/database; kept encrypted, never shown again.",
    )
    table = forms.CharField(
        required=False, max_length=255, help_text="schema.table, or leave blank and give a query."
    )
    query = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="One SELECT, run read-only."
    )


class ScheduleForm(forms.Form):
    frequency = forms.ChoiceField(
        choices=[
            ("weekly", "Weekly (Monday 06:00 UTC)"),
            ("monthly", "Monthly (the 1st, 06:00 UTC)"),
            ("quarterly", "Quarterly (1 January, April, July, October)"),
            ("cron", "Cron expression"),
        ],
    )
    cron = forms.CharField(
        required=False, max_length=100, help_text="With 'Cron expression': minute hour day month weekday."
    )
