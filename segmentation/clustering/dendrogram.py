"""A compact dendrogram of a fitted agglomerative hierarchy, small enough to keep in metrics.

The full merge tree of n rows has n - 1 merges; a reader only looks at the top of it. We keep
the last ``top`` merges (the highest), in scipy's linkage layout renumbered so that the clusters
left before those merges are leaves ``0..top`` and merge ``i`` creates node ``top + 1 + i``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

TOP_MERGES = 30


def dendrogram_summary(
    children: np.ndarray, distances: np.ndarray, *, n_clusters: int, linkage: str, top: int = TOP_MERGES
) -> dict[str, Any]:
    """The top merges of a hierarchy given by scikit-learn's ``children_`` and ``distances_``.

    Returns JSON-safe plain lists: ``merges`` as ``[left, right, height, size]`` rows (scipy's
    linkage layout on the renumbered nodes), ``leaf_sizes`` (rows under each leaf), ``cut``: a
    height between the merges that separate the ``n_clusters`` chosen segments, ``rows``: how
    many rows were clustered, and ``linkage``.
    """
    children = np.asarray(children, dtype=np.int64)
    heights = np.asarray(distances, dtype=float)
    n_leaves = len(children) + 1
    size = np.ones(2 * n_leaves - 1, dtype=np.int64)
    for i, (a, b) in enumerate(children):
        size[n_leaves + i] = size[a] + size[b]
    kept = min(top, len(children))
    first = len(children) - kept  # merges before this one are folded into the leaves
    leaf_ids: dict[int, int] = {}
    merges: list[list[float]] = []

    def renumber(node: int) -> int:
        if node >= n_leaves + first:
            return kept + 1 + (node - n_leaves - first)
        if node not in leaf_ids:
            leaf_ids[node] = len(leaf_ids)
        return leaf_ids[node]

    for i in range(first, len(children)):
        a, b = children[i]
        merges.append(
            [renumber(int(a)), renumber(int(b)), round(float(heights[i]), 6), int(size[n_leaves + i])]
        )
    leaf_sizes = [0] * len(leaf_ids)
    for node, leaf in leaf_ids.items():
        leaf_sizes[leaf] = int(size[node])
    # The chosen k clusters exist once the last k - 1 merges are undone: cut between them.
    k = max(1, min(n_clusters, n_leaves))
    upper = heights[len(children) - k + 1] if k > 1 else heights[-1]
    lower = heights[len(children) - k] if k <= len(children) else 0.0
    return {
        "linkage": linkage,
        "rows": n_leaves,
        "merges": merges,
        "leaf_sizes": leaf_sizes,
        "cut": round(float((upper + lower) / 2), 6),
    }
