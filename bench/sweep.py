"""Time the default sweep (K-Means and mixtures over k = 2..10, HDBSCAN, 20-resample stability)
on 200,000 customers x 8 features with planted segments.

    PYTHONPATH=. python bench/sweep.py [--rows 200000] [--record]

Prints wall time, peak memory (max RSS of this process) and the adjusted Rand index of the
selected labels against the planted segments; ``--record`` appends the figures to
bench/RESULTS.md. Not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from segmentation.clustering.sweep import sweep


def planted(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Six segments of unequal size and spread in 8 dimensions, with correlated features."""
    rng = np.random.default_rng(seed)
    shares = np.array([0.3, 0.25, 0.15, 0.12, 0.1, 0.08])
    truth = rng.choice(len(shares), size=rows, p=shares)
    centres = rng.normal(0, 4, size=(len(shares), 8))
    mixing = np.eye(8) + 0.3 * rng.normal(size=(8, 8))
    spread = rng.uniform(0.6, 1.4, size=len(shares))
    X = centres[truth] + (rng.normal(size=(rows, 8)) * spread[truth, None]) @ mixing
    return (X - X.mean(axis=0)) / X.std(axis=0), truth


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    X, truth = planted(args.rows)
    steps: list[tuple[str, float]] = []
    start = time.perf_counter()
    cpu_start = time.process_time()
    result = sweep(
        X,
        k_min=2,
        k_max=10,
        random_state=0,
        stability_resamples=20,
        progress=lambda step, _: steps.append((step, time.perf_counter() - start)),
    )
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    ari = adjusted_rand_score(truth, result.labels)
    by_algorithm: dict[str, float] = {}
    previous = 0.0
    for (step, at), (_, nxt) in zip(steps, [*steps[1:], ("end", wall)], strict=True):
        name = step.split()[1] if step.startswith("clustering") else step
        by_algorithm[name] = by_algorithm.get(name, 0.0) + (nxt - at)
        previous = nxt
    del previous
    lines = [
        f"### Default sweep, {args.rows:,} x 8 ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average before the run {os.getloadavg()[0]:.1f} (other jobs share the cores)",
        f"- wall {wall:.1f} s (CPU time {cpu:.1f} s over both cores), peak memory {peak:.2f} GiB "
        f"(max RSS, includes the {X.nbytes / 2**20:.0f} MiB input)",
        f"- selected {result.selected['algorithm']} k = {result.selected['k']}, adjusted Rand vs planted "
        f"segments {ari:.3f}",
        "- time per step: " + ", ".join(f"{k} {v:.1f} s" for k, v in by_algorithm.items()),
        f"- reason: {result.selected['reason']}",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    for c in result.candidates:
        print(
            {k: (round(v, 3) if isinstance(v, float) else v) for k, v in c.items() if k != "segment_jaccard"}
        )
    if args.record:
        path = Path(__file__).with_name("RESULTS.md")
        existing = path.read_text() if path.exists() else "# Benchmark results\n\n"
        path.write_text(existing.rstrip("\n") + "\n\n" + text)


if __name__ == "__main__":
    main()
