"""Portal forms of the projects app."""

from __future__ import annotations

from django import forms

from .models import Membership


class ProjectForm(forms.Form):
    client = forms.CharField(max_length=200, help_text="The client this project is for.")
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class MemberInviteForm(forms.Form):
    user = forms.CharField(
        max_length=254, label="Username or e-mail", help_text="Someone who already has an account."
    )
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.CONSULTANT)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)
