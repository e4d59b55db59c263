"""A noise upload: the run page leads with "no segmentation recommended", and approving the
version needs an override reason, in the portal and through the API, audited with the reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from governance.lifecycle import version_status
from tests.conftest import api_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def noise_run(project, consultant):  # type: ignore[no-untyped-def]
    from runs import services as run_services

    rng = np.random.default_rng(4)
    frame = pd.DataFrame(rng.uniform(0, 100, size=(400, 4)), columns=["visits", "spend", "basket", "tenure"])
    frame.insert(0, "customer_id", [f"C{i:04d}" for i in range(len(frame))])
    dataset = run_services.dataset_upload(
        project=project,
        name="noise.csv",
        content=frame.to_csv(index=False).encode(),
        id_column="customer_id",
        user=consultant,
    )
    spec = {
        "id_column": "customer_id",
        "numeric_columns": ["visits", "spend", "basket", "tenure"],
        "k_min": 2,
        "k_max": 4,
        "algorithms": ["kmeans"],
        "stability_resamples": 0,
    }
    run = run_services.run_start(project=project, dataset=dataset, spec=spec, user=consultant, enqueue=False)
    return run_services.run_execute(run_id=run.pk)


def test_a_noise_upload_leads_with_no_segmentation_and_approval_needs_a_reason(
    noise_run, consultant, reviewer, login
):
    version = noise_run.version
    html = login(consultant).get(reverse("runs:run_detail", args=[noise_run.pk])).content.decode()

    # The recommendation comes before the results, and the groups have neutral names.
    lead = html.index("No segmentation recommended: the data shows no more structure than random data")
    assert lead < html.index('id="results"')
    assert "gap statistic finds one group (no clusters)" in html
    assert version.segment_names[0] == "Group 1"

    action = reverse("governance:version_action", args=[version.pk])
    login(consultant).post(action, {"action": "submit"})
    refused = login(reviewer).post(action, {"action": "approve"}, follow=True).content.decode()
    assert "give an override reason" in refused
    assert version_status(version) == "in_review"

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_key(reviewer)}")
    no_reason = api.post(f"/api/v1/versions/{version.pk}/approve/", {}, format="json")
    assert no_reason.status_code == 400
    assert "override reason" in no_reason.content.decode()

    why = "The client wants a split by region anyway; groups used for reporting only."
    approved = api.post(f"/api/v1/versions/{version.pk}/approve/", {"override_reason": why}, format="json")
    assert approved.status_code == 200, approved.content
    assert version_status(version) == "approved"
    override = AuditEvent.objects.get(action="version.structure_override")
    assert override.details["override_reason"] == why
