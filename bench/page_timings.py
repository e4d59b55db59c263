"""Portal page timings for a 7,000-row run, as ratios against the dashboard in the same process.

    python bench/page_timings.py [--rows 7000] [--repeats 15] [--record]

Runs in-process through Django's test client and its whole request stack (middleware, sessions,
templates), against a throw-away test database (PostgreSQL when DATABASE_URL names one, else
SQLite), so the figures are the server's own cost without network or browser. A Telco-like table
(``tests/projects/telco.py``) is uploaded and run twice (k 3–4, no stability resamples, with
protected and outcome columns, so the results page draws its bias and outcome sections); each
page is fetched once to warm it (the results page's charts are cached after that first view),
then ``--repeats`` times. Ratios against the dashboard, measured in the same run, carry over
between machines better than milliseconds. ``--record`` writes the table into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segplatform.settings")
BEGIN, END = "<!-- page_timings:begin -->", "<!-- page_timings:end -->"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=7_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--record", action="store_true", help="write the table into bench/RESULTS.md")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.SECURE_SSL_REDIRECT = False
    machine = _machine(connection.vendor)
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        figures = {"machine": machine, **run(args)}
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)
    print(json.dumps(figures, indent=2))
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "page_timings.json").write_text(json.dumps(figures, indent=2))
    if args.record:
        _record(_markdown(figures, args))


def _machine(vendor: str) -> dict[str, object]:
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if "model name" in line
            ),
            "",
        )
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.machine(),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "database": vendor,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def run(args: argparse.Namespace) -> dict[str, object]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from projects import services
    from runs import services as run_services
    from tests.projects.telco import (
        TELCO_CATEGORICAL,
        TELCO_NUMERIC,
        TELCO_OUTCOME,
        TELCO_PROTECTED,
        telco_csv,
    )

    password = "bench-password-123"
    user = get_user_model().objects.create_user("bench", password=password)
    project = services.project_create(
        client=services.client_get_or_create(name="Bench"), name="Bench", user=user
    )
    raw, _ = telco_csv(args.rows, seed=3)
    dataset = run_services.dataset_upload(
        project=project, name="telco.csv", content=raw, id_column="customer_id", user=user
    )
    spec = {
        "id_column": "customer_id",
        "numeric_columns": TELCO_NUMERIC,
        "categorical_columns": TELCO_CATEGORICAL,
        "protected_columns": TELCO_PROTECTED,
        "outcome_columns": TELCO_OUTCOME,
        "k_min": 3,
        "k_max": 4,
        "stability_resamples": 0,
    }
    runs = []
    run_seconds = []
    for seed in (0, 1):
        started = run_services.run_start(
            project=project, dataset=dataset, spec={**spec, "random_state": seed}, user=user, enqueue=False
        )
        start = time.perf_counter()
        runs.append(run_services.run_execute(run_id=started.pk))
        run_seconds.append(round(time.perf_counter() - start, 1))
    latest = runs[-1]
    assert latest.version is not None, latest.error
    client = Client()
    assert client.login(username=user.username, password=password)
    pages = {
        "dashboard (baseline)": "/",
        "project": f"/projects/{project.pk}/",
        "upload": f"/projects/{project.pk}/datasets/upload/",
        "run form": f"/projects/{project.pk}/runs/new/?dataset={dataset.pk}",
        "results": f"/runs/{latest.pk}/",
        "version": f"/governance/versions/{latest.version.pk}/",
        "compare": f"/runs/compare/?a={runs[0].pk}&b={latest.pk}",
        "privacy review": f"/governance/datasets/{dataset.pk}/privacy/",
    }
    timings: dict[str, dict[str, float]] = {}
    for name, url in pages.items():
        start = time.perf_counter()
        response = client.get(url)
        first = time.perf_counter() - start
        assert response.status_code == 200, (name, response.status_code)
        samples = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            client.get(url)
            samples.append(time.perf_counter() - start)
        timings[name] = {
            "first_ms": round(1000 * first, 1),
            "median_ms": round(1000 * statistics.median(samples), 1),
            "bytes": len(response.content),
        }
    baseline = timings["dashboard (baseline)"]["median_ms"]
    for figures in timings.values():
        figures["ratio"] = round(figures["median_ms"] / baseline, 1)
    return {
        "rows": args.rows,
        "segments": len(latest.version.profile),
        "run_seconds": run_seconds,
        "repeats": args.repeats,
        "pages": timings,
    }


def _markdown(figures: dict, args: argparse.Namespace) -> str:
    m = figures["machine"]
    intro = (
        f"`python bench/page_timings.py --rows {figures['rows']} --repeats {figures['repeats']} --record`, "
        f"{m['date']}. Machine: {m['platform']}, {m['cores']} cores ({m['cpu']}), Python {m['python']}, "
        f"{m['database']}; load average {', '.join(str(x) for x in m['load_average'])} at the start "
        "(other helpers share the cores). In-process through Django's test client (middleware, "
        "sessions, templates; no network, no browser), logged in as the project's administrator, "
        f"after two runs of a {figures['rows']:,}-row Telco-like table (k 3–4, no stability "
        f"resamples, protected and outcome columns; {figures['segments']} segments; the runs took "
        f"{' s and '.join(str(s) for s in figures['run_seconds'])} s). Each page fetched once "
        f"(first), then {figures['repeats']} times (median); the ratio is the median over the "
        "dashboard's median in the same run. The first fetch of the dashboard also loads the "
        "templates for the process; the results and compare pages build their charts on first "
        "view and read them from the cache after."
    )
    lines = [
        BEGIN,
        "## Portal page timings (`bench/page_timings.py`)",
        "",
        *textwrap.wrap(intro, width=100, break_on_hyphens=False),
        "",
        "| page | first (ms) | median (ms) | × dashboard | HTML (KiB) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, page in figures["pages"].items():
        lines.append(
            f"| {name} | {page['first_ms']} | {page['median_ms']} | {page['ratio']} | {page['bytes'] / 1024:.0f} |"
        )
    lines.append(END)
    return "\n".join(lines)


def _record(block: str) -> None:
    results = ROOT / "bench" / "RESULTS.md"
    text = results.read_text()
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    results.write_text(text)


if __name__ == "__main__":
    main()
