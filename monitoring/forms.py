"""The monitoring page's upload of current data."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import validate_email

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


class AlertSettingsForm(forms.Form):
    level = forms.ChoiceField(
        label="Alert from",
        choices=[("warning", "Warning and drift"), ("drift", "Drift only")],
        help_text="Every member gets a portal notification; the addresses below an e-mail.",
    )
    emails = forms.CharField(
        label="E-mail addresses",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One or more, separated by commas or new lines.",
    )
    webhook_url = forms.URLField(
        label="Webhook",
        required=False,
        assume_scheme="https",
        help_text="An HTTPS endpoint the check is POSTed to as JSON, signed with HMAC-SHA256.",
    )
    new_webhook_secret = forms.BooleanField(
        label="Issue a new webhook secret", required=False, help_text="The old one stops working."
    )

    def clean_emails(self) -> list[str]:
        addresses = [
            a.strip() for a in self.cleaned_data["emails"].replace("\n", ",").split(",") if a.strip()
        ]
        bad = []
        for address in addresses:
            try:
                validate_email(address)
            except forms.ValidationError:
                bad.append(address)
        if bad:
            raise forms.ValidationError(f"not an e-mail address: {', '.join(bad)}; fix or remove it")
        return list(dict.fromkeys(addresses))

    def clean_webhook_url(self) -> str:
        url: str = self.cleaned_data["webhook_url"]
        if url and not url.startswith("https://"):
            raise forms.ValidationError(
                "the webhook must be an https:// URL: alerts carry the project's figures"
            )
        return url
