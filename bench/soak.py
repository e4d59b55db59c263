"""Soak: concurrent runs in one project while a chaos loop SIGKILLs the workers executing them.

    python bench/soak.py [--runs 30] [--kills 4] [--workers 2] [--concurrency 1]
        [--database-url postgres://postgres@127.0.0.1:5432/soak] [--redis-url redis://127.0.0.1:6379/3]

Needs PostgreSQL and Redis. It drops and recreates its own database (``soak`` by default, never
the configured one) and its files under ``var/soak``. The runs are started through the API
(in-process, the full request stack) and executed by real Celery worker processes on a queue of
the soak's own; this process runs the reaper and the dispatcher every second, as beat would, with
a short RUN_HEARTBEAT_TIMEOUT. Each kill is either a whole worker (its process group: a node
lost), restarted after a moment, or one pool child (an out-of-memory kill), which Celery replaces.

At the end it reports started, succeeded, failed (by reason), retried, stuck and lost runs and
whether the project's version numbers are distinct and gap-free; the exit code is 1 when a run
is stuck or lost or the numbers are wrong. The figures go to bench/out/soak.json too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segplatform.settings")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=1, help="pool processes per worker")
    parser.add_argument("--customers", type=int, default=2_000, help="rows of the dataset")
    parser.add_argument("--heartbeat-timeout", type=int, default=10)
    parser.add_argument(
        "--deadline", type=int, default=600, help="seconds before unfinished runs count as stuck"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/soak")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/3")
    args = parser.parse_args()

    var = ROOT / "var" / "soak"
    # The database is new, so are its files: a previous soak's would count as left behind.
    shutil.rmtree(var, ignore_errors=True)
    (var / "logs").mkdir(parents=True, exist_ok=True)
    _recreate_database(args.database_url)
    os.environ.update(
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        VAR_DIR=str(var),
        RUN_HEARTBEAT_TIMEOUT=str(args.heartbeat_timeout),
        HTTPS="0",
        PYTHONUNBUFFERED="1",
    )
    os.environ.pop("REQUIRE_SERVICES", None)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from segplatform.celery import app

    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    queue = f"soak-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    chaos = Chaos(queue=queue, logs=var / "logs", args=args)
    try:
        chaos.start_workers()
        figures = soak(args, chaos)
    finally:
        chaos.stop_all()
        with app.connection_for_write() as connection:
            connection.default_channel.queue_purge(queue)
    print(json.dumps(figures, indent=2))
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "soak.json").write_text(json.dumps(figures, indent=2))
    print(markdown(figures))
    broken = figures["stuck"] or figures["lost"] or not figures["versions_distinct_gap_free"]
    return 1 if broken else 0


def _recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.isidentifier():
        raise SystemExit(f"the soak database name {name!r} must be a plain identifier, e.g. soak")
    configured = os.environ.get("DATABASE_URL", "")
    if configured and urlsplit(configured).path.lstrip("/") == name:
        raise SystemExit(f"refusing to drop {name!r}: it is the configured DATABASE_URL; pass another")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


class Chaos:
    """The worker processes, and the kills: each worker leads its own process group."""

    def __init__(self, *, queue: str, logs: Path, args: argparse.Namespace) -> None:
        self.queue, self.logs, self.args = queue, logs, args
        self.workers: list[subprocess.Popen | None] = [None] * args.workers
        self.started = 0
        self.kills: list[dict[str, object]] = []

    def start(self, slot: int) -> None:
        self.started += 1
        log = self.logs / f"worker-{slot}-{self.started}.log"
        command = [sys.executable, "-m", "celery", "-A", "segplatform", "worker", "--pool=prefork"]
        command += [
            f"--concurrency={self.args.concurrency}",
            "-Q",
            self.queue,
            "-n",
            f"soak{slot}-{self.started}@%h",
        ]
        command += ["--without-mingle", "--without-gossip", "--without-heartbeat", "--loglevel=INFO"]
        with log.open("w") as handle:
            worker = subprocess.Popen(
                command,
                cwd=ROOT,
                env=dict(os.environ),
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 90
        while "ready." not in log.read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"a worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        self.workers[slot] = worker

    def start_workers(self) -> None:
        for slot in range(len(self.workers)):
            self.start(slot)

    def kill(self, rng: random.Random, running: int) -> None:
        """SIGKILL a random worker's whole group (restarted later) or one of its pool children."""
        slot = rng.randrange(len(self.workers))
        worker = self.workers[slot]
        if worker is None:
            return
        children = _children(worker.pid)
        if children and rng.random() < 0.5:
            os.kill(rng.choice(children), signal.SIGKILL)
            self.kills.append({"what": "pool child", "worker": slot, "runs_running": running})
            return
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=20)
        self.workers[slot] = None
        self.kills.append({"what": "whole worker", "worker": slot, "runs_running": running})

    def restart_dead(self) -> None:
        for slot, worker in enumerate(self.workers):
            if worker is None:
                self.start(slot)

    def stop_all(self) -> None:
        for worker in self.workers:
            if worker is not None and worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in self.workers:
            if worker is None:
                continue
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def soak(args: argparse.Namespace, chaos: Chaos) -> dict[str, object]:
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from accounts.services import api_token_create
    from projects import services as project_services
    from projects.models import SegmentationRun
    from runs import liveness, outbox, services
    from segmentation.synthetic.customers import customer_table

    rng = random.Random(args.seed)
    user = get_user_model().objects.create_user("soak", password="soak-password-123")
    project = project_services.project_create(
        client=project_services.client_get_or_create(name="Soak"), name="Soak", user=user
    )
    frame, _ = customer_table(args.customers, seed=3)
    dataset = services.dataset_upload(
        project=project,
        name="c.csv",
        content=frame.to_csv(index=False).encode(),
        id_column="customer_id",
        user=user,
    )
    spec = {"id_column": "customer_id", "numeric_columns": dataset.numeric_columns, "k_min": 2, "k_max": 4}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user, name='soak')[1]}")

    began = time.monotonic()
    run_ids = []
    for _ in range(args.runs):
        response = client.post(
            "/api/v1/runs/", {"project": project.pk, "dataset": dataset.pk, "spec": spec}, format="json"
        )
        if response.status_code != 201:
            raise SystemExit(f"starting a run answered {response.status_code}: {response.content[:500]!r}")
        run_ids.append(response.json()["id"])

    unfinished = SegmentationRun.objects.filter(pk__in=run_ids).exclude(status__in=SegmentationRun.FINISHED)
    next_kill = time.monotonic() + rng.uniform(3, 12)
    restart_at: float | None = None
    reaped = 0
    while unfinished.exists() and time.monotonic() - began < args.deadline:
        now = time.monotonic()
        if len(chaos.kills) < args.kills and now >= next_kill:
            chaos.kill(rng, running=unfinished.filter(status="running").count())
            next_kill = now + rng.uniform(5, 20)
            restart_at = restart_at or now + rng.uniform(1, 3)
        if restart_at is not None and now >= restart_at:
            chaos.restart_dead()
            restart_at = None
        reaped += liveness.runs_reap()
        outbox.runs_dispatch()
        time.sleep(1)
    chaos.restart_dead()
    return {
        "machine": _machine(),
        "runs": args.runs,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "customers": args.customers,
        "heartbeat_timeout_s": args.heartbeat_timeout,
        "kills": chaos.kills,
        "reaped": reaped,
        "wall_seconds": round(time.monotonic() - began, 1),
        **tally(project=project, run_ids=run_ids),
    }


def tally(*, project, run_ids: list[int]) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What became of every run the API accepted, read back from the rows and the audit trail."""
    from django.core.management import CommandError, call_command

    from audit.models import AuditEvent
    from governance.models import SegmentVersion
    from projects.models import SegmentationRun

    rows = {r.pk: r for r in SegmentationRun.objects.filter(pk__in=run_ids).select_related("version")}
    trails: dict[str, Counter[str]] = {}
    for object_id, action in AuditEvent.objects.filter(
        object_type="segmentationrun", object_id__in=[str(i) for i in run_ids]
    ).values_list("object_id", "action"):
        trails.setdefault(object_id, Counter())[action] += 1
    terminal = {"succeeded": "run.succeeded", "failed": "run.failed"}
    stuck, lost, failed = [], [], Counter()
    for run_id in run_ids:
        run, trail = rows.get(run_id), trails.get(str(run_id), Counter())
        if run is None:
            lost.append(run_id)
            continue
        if not run.is_finished:
            stuck.append(run_id)
            continue
        if run.status == "failed":
            failed[run.error] += 1
        complete = (
            trail["run.start"] == 1
            and trail["run.retried"] == run.attempts - 1
            and trail[terminal.get(run.status, "")] == 1
            and (run.status != "succeeded" or getattr(run, "version", None) is not None)
        )
        if not complete:
            lost.append(run_id)
    succeeded = [r for r in rows.values() if r.status == "succeeded"]
    numbers = sorted(SegmentVersion.objects.filter(project=project).values_list("number", flat=True))
    try:
        call_command("verify_audit_log", verbosity=0)
        chain = True
    except CommandError:
        chain = False
    return {
        "started": len(run_ids),
        "succeeded": len(succeeded),
        "failed": dict(failed),
        "retried": sum(1 for r in rows.values() if r.attempts > 1),
        "stuck": len(stuck),
        "lost": len(lost),
        "stuck_ids": stuck,
        "lost_ids": lost,
        "versions": len(numbers),
        "versions_distinct_gap_free": numbers == list(range(1, len(succeeded) + 1)),
        "orphan_version_files": _orphan_files(project),
        "audit_chain_verifies": chain,
    }


def _orphan_files(project) -> int:  # type: ignore[no-untyped-def]
    """Files under the project's version folders that no deliverable row names (a killed attempt's)."""
    from reports.models import Deliverable

    storage = Deliverable._meta.get_field("file").storage
    folder = Path(storage.location) / "projects" / str(project.pk) / "versions"
    named = set(Deliverable.objects.filter(version__project=project).values_list("file", flat=True))
    on_disk = {str(p.relative_to(storage.location)) for p in folder.rglob("*") if p.is_file()}
    return len(on_disk - named)


def _machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.uname().machine}, nproc {os.cpu_count()}, {memory:.1f} GiB, load {os.getloadavg()[0]:.2f}"


def markdown(f: dict[str, object]) -> str:
    failed = f["failed"] or {}
    reasons = "; ".join(f"{n} × {reason}" for reason, n in failed.items()) or "none"  # type: ignore[union-attr]
    kills = Counter(k["what"] for k in f["kills"])  # type: ignore[union-attr, index]
    lines = [
        "| figure | value |",
        "| --- | --- |",
        f"| runs started (API, 201) | {f['started']} |",
        f"| kills (SIGKILL) | {len(f['kills'])}: {dict(kills)} |",  # type: ignore[arg-type]
        f"| succeeded | {f['succeeded']} |",
        f"| failed | {sum(failed.values())} ({reasons}) |",  # type: ignore[union-attr]
        f"| retried (requeued after a lost worker) | {f['retried']} |",
        f"| stuck (not finished by the deadline) | {f['stuck']} |",
        f"| lost (no row, or an incomplete audit trail) | {f['lost']} |",
        f"| versions, distinct and gap-free | {f['versions']}, {'yes' if f['versions_distinct_gap_free'] else 'NO'} |",
        f"| audit chain verifies | {'yes' if f['audit_chain_verifies'] else 'NO'} |",
        f"| files of unfinished versions left in storage | {f['orphan_version_files']} |",
        f"| wall (first start to last finish) | {f['wall_seconds']} s |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
