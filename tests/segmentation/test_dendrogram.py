"""The compact dendrogram agrees with scipy's hierarchy on the same data."""

from __future__ import annotations

import json

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from segmentation.clustering.algorithms import make_estimator
from segmentation.clustering.dendrogram import dendrogram_summary


def test_the_top_merges_match_scipys_ward_linkage_and_the_cut_gives_the_chosen_segments():
    # given a fitted ward hierarchy on 120 rows in 4 blobs
    X, _ = make_blobs(n_samples=120, centers=4, random_state=3)
    model = make_estimator("agglomerative", 4).fit(X)
    # when it is summarised
    tree = dendrogram_summary(model.children_, model.distances_, n_clusters=4, linkage="ward")
    # then the kept merges are scipy's top 30: same heights, same sizes
    reference = linkage(X, method="ward")[-30:]
    assert len(tree["merges"]) == 30 and len(tree["leaf_sizes"]) == 31
    np.testing.assert_allclose([m[2] for m in tree["merges"]], reference[:, 2], rtol=1e-6)
    assert [m[3] for m in tree["merges"]] == reference[:, 3].astype(int).tolist()
    assert sum(tree["leaf_sizes"]) == tree["rows"] == 120 == tree["merges"][-1][3]
    # and cutting scipy's tree at the stored height yields the model's 4 segments
    cut = fcluster(linkage(X, method="ward"), t=tree["cut"], criterion="distance")
    assert adjusted_rand_score(cut, model.labels_) == 1.0
    # and it is small plain JSON
    assert len(json.dumps(tree)) < 2_000


def test_a_small_hierarchy_keeps_every_merge():
    X = np.array([[0.0], [1.0], [10.0]])
    model = make_estimator("agglomerative", 2).fit(X)
    tree = dendrogram_summary(model.children_, model.distances_, n_clusters=2, linkage="ward")
    assert len(tree["merges"]) == 2 and tree["leaf_sizes"] == [1, 1, 1]
    assert tree["merges"][0][2] < tree["cut"] < tree["merges"][1][2]
