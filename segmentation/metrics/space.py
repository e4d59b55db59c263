"""Where the customers were clustered and drawn: the clustering space and the 2-D maps.

Both were added with the PCA reduction; versions before it clustered the standardised features
with the Euclidean distance and stored no maps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import reading as r


@dataclass(frozen=True)
class Space(r.Stored):
    """The clustering space: the reduction, the distance and how many dimensions it has.

    ``explained_variance_ratio`` is per kept principal component (empty without PCA).
    ``dimensions`` falls back to the number of features for versions that did not say.
    """

    reduction: str = "none"
    distance: str = "euclidean"
    dimensions: int = 0
    explained_variance_ratio: tuple[float, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any, *, features: int) -> Space:
        d = r.mapping(data)
        return cls(
            reduction=r.text(d.get("reduction"), "none"),
            distance=r.text(d.get("distance"), "euclidean"),
            dimensions=r.integer(d.get("dimensions"), features),
            explained_variance_ratio=r.numbers(d.get("explained_variance_ratio")),
            raw=r.frozen_copy(dict(d)),
        )


@dataclass(frozen=True)
class Map2D(r.Stored):
    """One 2-D layout of the map's first ``rows`` customers (rounded to 4 decimals).

    PCA has every customer of the sample and its ``explained_variance_ratio`` (share of the
    total variance of each axis); t-SNE and UMAP map the first ``rows`` and carry their
    ``perplexity`` or ``n_neighbors``.
    """

    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    rows: int = 0
    explained_variance_ratio: tuple[float, ...] = ()
    perplexity: float | None = None
    n_neighbors: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> Map2D | None:
        d = r.mapping(data)
        if not d:
            return None
        x, y = r.numbers(d.get("x")), r.numbers(d.get("y"))
        return cls(
            x=x,
            y=y,
            rows=r.integer(d.get("rows"), len(x)),
            explained_variance_ratio=r.numbers(d.get("explained_variance_ratio")),
            perplexity=r.number(d.get("perplexity")),
            n_neighbors=r.optional_integer(d.get("n_neighbors")),
            raw=r.frozen_copy(dict(d)),
        )


@dataclass(frozen=True)
class Maps(r.Stored):
    """The exploration maps of :func:`segmentation.clustering.reduction.exploration_maps`.

    A seeded sample of at most 2,000 customers of the run, in the standardised features (before
    any reduction or whitening). ``customer_ids`` and ``segments`` (``-1`` = noise) run in the
    order of the points; t-SNE and UMAP cover the first ``rows`` of them.
    """

    sample_size: int = 0
    customer_ids: tuple[str, ...] = ()
    segments: tuple[int, ...] = ()
    pca: Map2D | None = None
    tsne: Map2D | None = None
    umap: Map2D | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> Maps | None:
        d = r.mapping(data)
        if not d:
            return None
        segments = r.integers(d.get("segments"))
        return cls(
            sample_size=r.integer(d.get("sample_size"), len(segments)),
            customer_ids=r.texts(d.get("customer_ids")),
            segments=segments,
            pca=Map2D.from_dict(d.get("pca")),
            tsne=Map2D.from_dict(d.get("tsne")),
            umap=Map2D.from_dict(d.get("umap")),
            raw=r.frozen_copy(dict(d)),
        )
