"""The main pages pass axe-core's WCAG 2.1 AA rules in Chromium, and work at phone width.

axe-core comes from a pinned package (``axe-playwright-python`` ships ``axe.min.js``), evaluated
in the page by the browser driver: never fetched from a CDN, and the page's own CSP stays on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.projects.conftest import finished_run  # noqa: F401  (shared fixture)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}


def _axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def _violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    page.evaluate(_axe_source())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_21_AA,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(n['target'][0] for n in v['nodes'][:3])}"
        for v in result["violations"]
    ]


def _pages(run) -> dict[str, str]:  # type: ignore[no-untyped-def]
    project, version = run.project, run.version
    return {
        "dashboard": "/",
        "project": f"/projects/{project.pk}/",
        "upload": f"/projects/{project.pk}/datasets/upload/",
        "run-form": f"/projects/{project.pk}/runs/new/",
        "results": f"/runs/{run.pk}/",
        "version": f"/governance/versions/{version.pk}/",
        "governance": f"/governance/projects/{project.pk}/",
        "privacy-review": f"/governance/datasets/{run.dataset.pk}/privacy/",
        "security": "/accounts/two-factor/",
        "api-token": "/accounts/api-token/",
    }


def test_the_login_page_passes_wcag_aa(open_session):
    me = open_session("a11y-login")
    me.page.goto("/accounts/login/")
    assert _violations(me.page) == []


@pytest.mark.parametrize("viewport", ["laptop", "phone"])
def test_the_main_pages_pass_wcag_aa_and_fit_a_phone(open_session, finished_run, viewport):  # noqa: F811
    from tests.e2e.conftest import LAPTOP

    me = open_session(f"a11y-{viewport}", viewport=PHONE if viewport == "phone" else LAPTOP)
    me.login(finished_run.created_by.username)
    found = {}
    for name, url in _pages(finished_run).items():
        response = me.page.goto(url)
        assert response is not None and response.status == 200, (name, url)
        if name == "results":
            me.page.wait_for_selector(".chart[data-chart=map].drawn")
        problems = _violations(me.page)
        if viewport == "phone":
            width = me.page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                problems.append(f"the page is {width}px wide on a {PHONE['width']}px phone")
            me.shot(name)
        if problems:
            found[name] = problems
    assert found == {}, found
    assert not me.errors, me.errors
