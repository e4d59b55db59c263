"""What the lifecycle models add to the default run: the same log and spec with and without them.

    PYTHONPATH=. python bench/generate.py --customers 200000 --out var/bench/log_200k.parquet
    PYTHONPATH=. python bench/lifecycle.py [--log var/bench/log_200k.parquet] [--record]

The default run of a log (no ``features`` named) computes the ``clv`` group (BG/NBD and
Gamma-Gamma fits, each customer's P(alive), expected purchases and CLV), then after the
clustering the lifecycle report (cohorts by segment, the lifecycle HMM with states chosen by BIC
among 2..5, each customer's state and churn probability, likely movers). The baseline is the same
run with both lifecycle steps replaced by nothing, so the difference is what they cost. Each
side runs in its own child process (this script re-invoked with ``--side``) for its own wall
time and peak memory. Not a test: timings depend on the machine's load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402

SPEC = {
    "id_column": "customer_id",
    "input_kind": "transactions",
    "timestamp_column": "timestamp",
    "amount_column": "amount",
    "as_of": "2026-01-01",
    "random_state": 0,
}


def _without_lifecycle() -> None:
    """Replace both lifecycle steps with nothing (the baseline side only)."""
    import pandas as pd

    from segmentation import pipeline
    from segmentation.data import customer_table
    from segmentation.lifecycle.features import LifecycleFeatures

    def no_features(*args: object, **kwargs: object) -> LifecycleFeatures:
        return LifecycleFeatures(
            frame=pd.DataFrame({"customer_id": []}), groups=(), clustered=(), profiled=()
        )

    build = pipeline.build_customer_table

    def without_events(frame: pd.DataFrame, spec: object) -> customer_table.CustomerTable:
        return replace(build(frame, spec), events=None)  # the pipeline then makes no report

    customer_table.lifecycle_features = no_features  # type: ignore[assignment]
    pipeline.build_customer_table = without_events  # type: ignore[assignment]


def _side(log_path: Path, with_lifecycle: bool) -> dict:
    import resource

    import pandas as pd

    if not with_lifecycle:
        _without_lifecycle()
    from segmentation.pipeline import segment
    from segmentation.spec import SegmentationSpec

    log = pd.read_parquet(log_path)
    steps: list[tuple[str, float]] = []
    started = time.perf_counter()
    result = segment(
        log,
        SegmentationSpec.from_dict(SPEC),
        progress=lambda step, _: steps.append((step, time.perf_counter() - started)),
    )
    wall = time.perf_counter() - started
    out = {
        "wall": wall,
        "events": len(log),
        "customers": int(result.metrics["customers"]),
        "selected": f"{result.metrics['selected']['algorithm']} k={result.metrics['selected']['k']}",
        "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "steps": _step_times(steps),
    }
    if with_lifecycle and result.lifecycle is not None:
        states = result.lifecycle.summary["states"] or {}
        out["states"] = states.get("names")
        out["movers"] = result.lifecycle.summary["movers"]["customers"]
        out["clv_groups"] = result.metrics["feature_groups"]
    return out


def _step_times(steps: list[tuple[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    previous = 0.0
    for name, at in steps:
        key = name.split(" k=")[0]
        out[key] = round(out.get(key, 0.0) + at - previous, 2)
        previous = at
    return out


def _machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "unknown CPU",
    )
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.machine()}, nproc {os.cpu_count()}, {cpu}, {memory:.1f} GiB memory, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--log", type=Path, default=ROOT / "var" / "bench" / "log_200k.parquet")
    parser.add_argument("--side", choices=("with", "without"))
    parser.add_argument("--record", action="store_true", help="write the figures into bench/RESULTS.md")
    args = parser.parse_args()
    if args.side:
        print(json.dumps(_side(args.log, args.side == "with")))
        return
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    sides = {}
    for side in ("without", "with"):
        done = subprocess.run(
            [sys.executable, __file__, "--log", str(args.log), "--side", side],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        sides[side] = json.loads(done.stdout.strip().splitlines()[-1])
        print(side, sides[side])
    base, full = sides["without"], sides["with"]
    # A step's time is the time until it was reported: CLV falls in "features ready" and the
    # lifecycle report in "done" (reported after it).
    clv_cost = full["steps"].get("features ready", 0.0) - base["steps"].get("features ready", 0.0)
    report_cost = full["steps"].get("done", 0.0) - base["steps"].get("done", 0.0)
    text = "\n".join(
        [
            f"### Lifecycle models in the default run, {full['customers']:,} customers, {full['events']:,} events "
            f"({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
            "",
            f"- machine: {_machine()}; load average before {load}",
            f"- without the lifecycle steps: wall {base['wall']:.1f} s, peak RSS {base['peak_gib']:.2f} GiB, "
            f"selected {base['selected']}; steps (s): {base['steps']}",
            f"- with them (the default): wall {full['wall']:.1f} s, peak RSS {full['peak_gib']:.2f} GiB, "
            f"selected {full['selected']}; states {full.get('states')}, {full.get('movers', 0):,} likely movers; "
            f"steps (s): {full['steps']}",
            f"- added: {full['wall'] - base['wall']:.1f} s in all (ratio {full['wall'] / base['wall']:.2f}); "
            f"the CLV models {clv_cost:.1f} s (in 'features ready'), the lifecycle report (cohorts, HMM "
            f"states, movers) {report_cost:.1f} s (in 'done'); the budget is 30 s",
            "",
        ]
    )
    print(text)
    if args.record:
        record("lifecycle", "Lifecycle models (`bench/lifecycle.py`)", text)


if __name__ == "__main__":
    main()
