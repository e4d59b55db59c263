"""Portal forms of the projects app."""

from __future__ import annotations

from django import forms


class ProjectForm(forms.Form):
    client = forms.CharField(max_length=200, help_text="The client this project is for.")
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
