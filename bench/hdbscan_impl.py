"""Measure HDBSCAN implementations side by side on the engine's sample size (run by hand).

    PYTHONPATH=. python bench/hdbscan_impl.py [rows ...]

Prints wall time (best of two) and the adjusted Rand index between the implementations' labels.
"""

from __future__ import annotations

import sys
import time

from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score


def best_of(runs: int, fit):  # type: ignore[no-untyped-def]
    times, labels = [], None
    for _ in range(runs):
        start = time.perf_counter()
        labels = fit()
        times.append(time.perf_counter() - start)
    return min(times), labels


def main(sizes: list[int]) -> None:
    import hdbscan
    from sklearn.cluster import HDBSCAN

    for n in sizes:
        X, _ = make_blobs(n, centers=6, n_features=8, cluster_std=1.5, random_state=0)
        size = max(5, round(0.01 * n))
        t_lib, l_lib = best_of(
            2, lambda X=X, size=size: hdbscan.HDBSCAN(min_cluster_size=size, min_samples=10).fit(X).labels_
        )
        t_skl, l_skl = best_of(
            2, lambda X=X, size=size: HDBSCAN(min_cluster_size=size, min_samples=10, copy=True).fit(X).labels_
        )
        print(
            f"{n} x 8, min_cluster_size={size}, min_samples=10: hdbscan {t_lib:.2f} s, "
            f"scikit-learn {t_skl:.2f} s, ARI between them {adjusted_rand_score(l_lib, l_skl):.4f}"
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [5_000, 20_000])
