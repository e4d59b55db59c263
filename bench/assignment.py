"""What each winner's own assignment costs and how closely it reproduces the clustering.

    PYTHONPATH=. python bench/assignment.py [--customers 200000] [--record]

For each algorithm alone (no stability resamples, k = 5 for those that take k, 2..10 accepted from density methods) on the planted
customer table of :func:`segmentation.synthetic.customers.customer_table`, it times the whole
``segment`` call and the assignment step (fitting the assigner, labelling everyone with the
model, numbering segments), and reports ``selected.assignment_agreement``: the share of
customers the delivered model labels as the clustering did. The assignment step is timed from
the pipeline's ``profiling`` progress report to ``writing rules`` (which also covers the profile).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from segmentation import SegmentationSpec, segment  # noqa: E402
from segmentation.clustering.algorithms import FINDS_K  # noqa: E402
from segmentation.synthetic.customers import customer_table  # noqa: E402

ALGORITHMS = ("kmeans", "gmm", "agglomerative", "hdbscan")
NUMERIC = ["recency_days", "orders_per_year", "avg_basket", "tenure_months"]


def measure(frame, algorithm: str) -> dict[str, float | str]:  # type: ignore[no-untyped-def]
    marks: dict[str, float] = {}

    def progress(step: str, fraction: float) -> None:
        marks.setdefault(step, time.perf_counter())

    spec = SegmentationSpec.from_dict(
        {
            "id_column": "customer_id",
            "numeric_columns": NUMERIC,
            # Density methods find k themselves: any count from 2 to 10 is accepted for them.
            "k_min": 2 if algorithm in FINDS_K else 5,
            "k_max": 10 if algorithm in FINDS_K else 5,
            "algorithms": [algorithm],
            "stability_resamples": 0,
        }
    )
    start = time.perf_counter()
    result = segment(frame, spec, progress=progress)
    total = time.perf_counter() - start
    selected = result.metrics["selected"]
    return {
        "algorithm": algorithm,
        "total": total,
        "assignment_and_profile": marks["writing rules"] - marks["profiling"],
        "agreement": selected["assignment_agreement"],
        "segments": result.model.n_segments,
        "rule": selected["assignment"].split(", the same arithmetic")[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--record", action="store_true", help="append the table to bench/RESULTS.md")
    args = parser.parse_args()
    frame, _ = customer_table(args.customers, seed=0)
    load = os.getloadavg()
    rows = [measure(frame, name) for name in ALGORITHMS]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"### Each winner's own assignment, {args.customers:,} customers ({when})",
        "",
        f"`PYTHONPATH=. python bench/assignment.py --customers {args.customers}`; "
        f"{platform.machine()}, nproc {os.cpu_count()}, load average before {load[0]:.2f}.",
        "",
        "| algorithm | segments | whole run (s) | assignment + profile (s) | agreement with the clustering |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['algorithm']} | {row['segments']} | {row['total']:.1f} | "
            f"{row['assignment_and_profile']:.1f} | {row['agreement']:.4f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.record:
        with (ROOT / "bench/RESULTS.md").open("a") as handle:
            handle.write("\n" + text)


if __name__ == "__main__":
    main()
