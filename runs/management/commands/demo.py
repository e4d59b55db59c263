"""``manage.py demo``: a demo consultant, client, project and dataset for a first look."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from projects import services as project_services
from projects.models import Membership, Project
from runs import services
from segmentation.synthetic.customers import customer_table

DEMO_USER = "demo"
DEMO_CLIENT = "Demo Retail Ltd"
DEMO_PROJECT = "Customer segmentation demo"


class Command(BaseCommand):
    help = "Create (or reset) the demo consultant and load a demo customer table; prints the password."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=DEMO_USER)
        user.set_password(password)
        user.save()

        client = project_services.client_get_or_create(name=DEMO_CLIENT)
        project = Project.objects.filter(client=client, name=DEMO_PROJECT).first()
        if project is None:
            project = project_services.project_create(client=client, name=DEMO_PROJECT, user=user)
        project_services.membership_add(project=project, user=user, role=Membership.Role.ADMIN)
        if not project.datasets.exists():
            frame, _ = customer_table(2_000, seed=7)
            services.dataset_upload(
                project=project,
                name="demo_customers.csv",
                content=frame.to_csv(index=False).encode(),
                id_column="customer_id",
                user=user,
            )
        self.stdout.write(f"Demo consultant: username '{DEMO_USER}', password '{password}'")
