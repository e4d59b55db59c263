"""Scoring API benchmark: single-record latency and batch throughput of POST /versions/<id>/score.

    DATABASE_URL=... python bench/score_api.py [--singles 300] [--batch 10000] [--batches 5]

Runs in-process through Django's full request stack (middleware, token authentication, DRF
parsing, validation, the model, the audit write), against a throw-away test database, so the
figures are the server's own cost without network. Nothing is written to the configured database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segplatform.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--singles", type=int, default=300)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        figures = run(args)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)
    print(json.dumps(figures, indent=2))
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "score_api.json").write_text(json.dumps(figures, indent=2))


def run(args: argparse.Namespace) -> dict[str, object]:
    import numpy as np
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from accounts.services import api_token_create
    from projects import services
    from segmentation.synthetic.customers import customer_table

    user = get_user_model().objects.create_user("bench", password="bench-password-123")
    project = services.project_create(
        client=services.client_get_or_create(name="Bench"), name="Bench", user=user
    )
    frame, _ = customer_table(args.customers, seed=3)
    dataset = services.dataset_upload(
        project=project,
        name="c.csv",
        content=frame.to_csv(index=False).encode(),
        id_column="customer_id",
        user=user,
    )
    features = dataset.numeric_columns
    spec = {"id_column": "customer_id", "numeric_columns": features, "k_min": 3, "k_max": 5}
    run_ = services.run_start(project=project, dataset=dataset, spec=spec, user=user, enqueue=False)
    version = services.run_execute(run_id=run_.pk).version

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user, name='bench')[1]}")
    url = f"/api/v1/versions/{version.pk}/score"
    rng = np.random.default_rng(0)
    from segmentation.model.artefact import coerce_numeric

    numbers = {c: coerce_numeric(frame[c]).tolist() for c in features}
    records = [
        {"customer_id": cid, **{c: (None if v != v else v) for c in features for v in [numbers[c][i]]}}
        for i, cid in enumerate(frame["customer_id"])
    ]

    def post(batch: list[dict[str, object]]):  # type: ignore[no-untyped-def]
        return client.post(url, json.dumps({"records": batch}), content_type="application/json")

    post(records[:1])  # warm: model cache, connections
    latencies = []
    for i in rng.integers(0, len(records), args.singles):
        body = [records[int(i)]]
        start = time.perf_counter()
        response = post(body)
        latencies.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.content
    batch = (records * (args.batch // len(records) + 1))[: args.batch]
    seconds = []
    for _ in range(args.batches):
        start = time.perf_counter()
        response = post(batch)
        seconds.append(time.perf_counter() - start)
        assert response.status_code == 200 and response.json()["count"] == args.batch
    latencies.sort()
    return {
        "segments": len(version.profile),
        "features": len(features),
        "single_record_ms": {
            "requests": args.singles,
            "median": round(statistics.median(latencies), 2),
            "p95": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
            "max": round(latencies[-1], 2),
        },
        "batch": {
            "records": args.batch,
            "requests": args.batches,
            "median_seconds": round(statistics.median(seconds), 3),
            "records_per_second": round(args.batch / statistics.median(seconds)),
        },
    }


if __name__ == "__main__":
    main()
