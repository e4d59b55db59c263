"""The interactive API docs work in a real browser under the platform's strict CSP."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_swagger_ui_lists_every_operation_without_any_csp_refusal(open_session, consultant):
    me = open_session("api-docs")
    me.login(consultant.username)
    me.page.goto("/api/docs/")
    me.page.locator(".opblock").nth(15).wait_for()
    paths = me.page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/versions/{id}/score" in p.replace("\u200b", "") for p in paths)
    me.shot("01-swagger-ui")
    assert not me.errors, me.errors
