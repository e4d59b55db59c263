"""Monitoring at scale: current customers against a reference of the same size, 20 features.

    PYTHONPATH=. python bench/monitoring.py [--rows 1000000] [--features 20] [--record]

The model is the platform's own (K-Means by :func:`segmentation.segment` on a 50,000-customer
sample of the reference, 4 segments planted); the reference and the current tables share half
their customers (so migration is measured on 500,000 of them at 1M) and the current one has one
feature shifted by half a standard deviation. The monitoring pass runs in a child process, so its
wall time and peak memory (``ru_maxrss`` from ``os.wait4``) are its own; building the tables and
the model is not counted. The target from issue 14: 1,000,000 against 1,000,000 with 20 features in
at most 30 s and 3 GiB. Baseline in the same run: scipy's ``ks_2samp`` over the 20 columns of the
same arrays (the cheapest thing a notebook would do), so load on the machine shows as a ratio.
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
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench" / "monitoring"


def tables(rows: int, features: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (4, features))
    names = [f"f{j:02d}" for j in range(features)]

    def draw(n: int, start: int) -> pd.DataFrame:
        group = rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1])
        frame = pd.DataFrame(centres[group] + rng.normal(0, 1, (n, features)), columns=names)
        frame.insert(0, "customer_id", np.char.add("C", np.arange(start, start + n).astype(str)))
        return frame

    reference = draw(rows, 0)
    current = draw(rows, rows // 2)  # half the customers are in both
    current["f00"] += 0.5 * reference["f00"].std()
    return reference, current


def prepare(rows: int, features: int) -> None:
    from segmentation import SegmentationSpec, segment

    OUT.mkdir(parents=True, exist_ok=True)
    reference, current = tables(rows, features)
    reference.to_parquet(OUT / "reference.parquet")
    current.to_parquet(OUT / "current.parquet")
    spec = SegmentationSpec.from_dict(
        {
            "id_column": "customer_id",
            "numeric_columns": [c for c in reference.columns if c != "customer_id"],
            "k_min": 4,
            "k_max": 4,
            "algorithms": ["kmeans"],
            "stability_resamples": 0,
        }
    )
    model = segment(reference.sample(n=min(rows, 50_000), random_state=0), spec).model
    (OUT / "model.json").write_bytes(model.to_json())


def side(which: str) -> dict[str, object]:
    from segmentation import load_model
    from segmentation.monitoring.report import monitor

    reference = pd.read_parquet(OUT / "reference.parquet")
    current = pd.read_parquet(OUT / "current.parquet")
    model = load_model(json.loads((OUT / "model.json").read_text()))
    start = time.perf_counter()
    if which == "platform":
        result = monitor(model, reference, current)
        summary = {"overall_level": result.overall_level, "levels": result.levels}
        summary["drifted"] = [f.test.feature for f in result.features if f.level != "none"]
    else:
        from scipy import stats

        columns = [c for c in reference.columns if c != "customer_id"]
        summary = {"ks": [float(stats.ks_2samp(reference[c], current[c]).statistic) for c in columns]}
    summary["seconds"] = time.perf_counter() - start
    return summary


def child(which: str) -> dict[str, object]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, __file__, "--side", which],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"the {which} side failed")
    result = json.loads(output)
    result.update(wall_process=time.perf_counter() - started, peak_gib=usage.ru_maxrss / 2**20)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--side", choices=("platform", "baseline"))
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    if args.side:
        print(json.dumps(side(args.side)))
        return
    load = os.getloadavg()
    prepare(args.rows, args.features)
    platform_side, baseline = child("platform"), child("baseline")
    block = "\n".join(
        [
            f"### Monitoring {args.rows:,} against {args.rows:,} customers, {args.features} features "
            f"({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
            "",
            f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average before the run {load[0]:.1f}",
            f"- monitoring pass: {platform_side['seconds']:.1f} s (process {platform_side['wall_process']:.1f} s "
            f"with reading the tables), peak memory {platform_side['peak_gib']:.2f} GiB",
            f"- baseline, scipy ks_2samp over the {args.features} columns: {baseline['seconds']:.1f} s; "
            f"ratio {platform_side['seconds'] / baseline['seconds']:.1f}x",
            f"- levels: {platform_side['levels']}; features past none: {platform_side['drifted']}",
            "",
        ]
    )
    print(block)
    if args.record:
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as handle:
            handle.write("\n" + block)


if __name__ == "__main__":
    main()
