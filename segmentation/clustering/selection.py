"""Choosing one candidate clustering, with a sentence that says why.

Each family of methods is judged by the criterion it can defend, then the families' finalists
meet under one documented rule. (Until this rule, ``"combined"`` meant one mean rank of
silhouette, Davies–Bouldin, Calinski–Harabasz and stability across every candidate; that
favoured compact round clusters, so two interleaved half-moons went to K-Means k = 8. Stored
versions keep the reason they were chosen with.)

The combined rule (``selection: "combined"``, the default)
----------------------------------------------------------
1. Only candidates with at least two segments and a silhouette are eligible. A candidate *passes*
   its checks when its bootstrap stability (mean adjusted Rand) is at least ``STABILITY_FLOOR``
   (0.6, where Hennig's bootstrap treats clusters as dissolving), its smallest segment holds at
   least ``TINY_SEGMENT`` (1%) of customers (or, when the sweep says how many customers there
   are, :func:`segmentation.bounds.min_segment_size` of them), and, for a density method, it
   leaves at most ``DENSITY_NOISE_LIMIT`` (half) of the customers as noise. Within a family
   only passing candidates compete, unless none passes.
2. Within each family, its own criterion:
   - mixtures (``gmm``): the lowest ICL (BIC plus twice the entropy of the posterior
     memberships, :func:`segmentation.clustering.criteria.icl`), so k is where the Gaussians fit
     the data and do not overlap;
   - density methods (``hdbscan``, ``dbscan``, ``gower_hdbscan``): the highest DBCV;
   - partitions (every other method): the highest silhouette among the candidates whose PAC
     (proportion of ambiguous pairs in consensus clustering) is within ``PAC_TOLERANCE`` (0.05)
     of the lowest PAC across k: a k whose segments re-form the same way on resamples.
3. Across families, first the mixture against the partition: the mixture wins when its stability
   holds (at least ``STABLE`` 0.8 and no more than 0.05 below the partition's), the two disagree
   (adjusted Rand below ``AGREE`` 0.9) and its ICL is lower than the partition's Gaussian BIC
   (:func:`segmentation.clustering.criteria.gaussian_bic`, the partition read as a hard
   full-covariance mixture) by more than ``STRONG_EVIDENCE`` (10, Kass & Raftery's "very
   strong"): unequal or elongated groups a partition cuts. Otherwise the higher silhouette wins.
4. Then the density finalist against that winner: it wins when it is stable (at least
   ``STABLE``), leaves at most ``DENSITY_NOISE_WIN`` (a quarter) of customers as noise, its DBCV
   beats the other's DBCV on the same rows by at least ``DBCV_MARGIN`` (0.3 on DBCV's -1..1
   scale) and the two disagree (adjusted Rand below ``AGREE`` on the customers the density
   method placed): non-convex groups found stably. When they agree, the other wins, because it
   places every customer. (Measured: on half-moons and rings the density method's DBCV led a
   partition's by 0.6–0.9; where it merged two touching round blobs, by 0.15.)
5. A finalist that failed its checks loses to one that passed, whatever the figures. When
   stability was not measured (``stability_resamples: 0``), the stability conditions are skipped.

The silhouette rule (``selection: "silhouette"``) is the foundation's: highest silhouette,
ties to the smaller k.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..bounds import min_segment_size, small_segment_wording
from ..errors import SegmentationError
from .algorithms import FINDS_K

STABILITY_FLOOR = 0.6
STABLE = 0.8
STABILITY_MARGIN = 0.05
TINY_SEGMENT = 0.01
DENSITY_NOISE_LIMIT = 0.5
DENSITY_NOISE_WIN = 0.25
PAC_TOLERANCE = 0.05
AGREE = 0.9
STRONG_EVIDENCE = 10.0
DBCV_MARGIN = 0.3
RULES = ("combined", "silhouette")
MIXTURES = frozenset({"gmm"})
FAMILIES = ("partition", "mixture", "density")

# Agreement(i, j): adjusted Rand between candidates i and j on the rows both place (None: unknown).
Agreement = Callable[[int, int], float | None]
# Figure(i): a figure the sweep computes only for finalists (DBCV, Gaussian BIC), stored on them.
Figure = Callable[[int], float | None]


def family(algorithm: str) -> str:
    """``"mixture"``, ``"density"`` or ``"partition"``: whose criterion judges the algorithm."""
    if algorithm in MIXTURES:
        return "mixture"
    if algorithm in FINDS_K:
        return "density"
    return "partition"


@dataclass(frozen=True)
class Finalist:
    """A family's best candidate: its index, whether it passed its checks, and why it won."""

    index: int
    family: str
    passed: bool
    why: str


@dataclass(frozen=True)
class Comparisons:
    """What the across-family rule asks the sweep for: agreement between two candidates, and a
    candidate's DBCV and Gaussian BIC (stored on it by the sweep)."""

    agreement: Agreement
    dbcv: Figure
    gaussian_bic: Figure


def _nothing(*_: int) -> None:
    return None


NO_COMPARISONS = Comparisons(agreement=_nothing, dbcv=_nothing, gaussian_bic=_nothing)


def _eligible(candidates: list[dict[str, Any]]) -> list[int]:
    return [i for i, c in enumerate(candidates) if c.get("k", 0) >= 2 and c.get("silhouette") is not None]


def _label(c: dict[str, Any]) -> str:
    return f"{c['algorithm']} with k = {c['k']}"


def _tiny_share(customers: int | None) -> float:
    """The share below which a segment is too small: the bounds' minimum size among ``customers``."""
    if not customers:
        return TINY_SEGMENT
    return max(TINY_SEGMENT, min_segment_size(customers) / customers)


def failed_checks(c: dict[str, Any], customers: int | None = None) -> list[str]:
    """The checks of step 1 a candidate fails, each in words with its figure."""
    failed = []
    if c.get("stability") is not None and c["stability"] < STABILITY_FLOOR:
        failed.append(f"stability {c['stability']:.2f} below {STABILITY_FLOOR}")
    if c.get("smallest_share") is not None and c["smallest_share"] < _tiny_share(customers):
        too_small = small_segment_wording(customers) if customers else None
        failed.append(too_small or f"a segment under {TINY_SEGMENT:.0%} of customers")
    if family(c["algorithm"]) == "density" and (c.get("noise_share") or 0.0) > DENSITY_NOISE_LIMIT:
        failed.append(f"{c['noise_share']:.0%} of customers left as noise")
    return failed


def _number(c: dict[str, Any], key: str, default: float) -> float:
    value = c.get(key)
    return default if value is None else float(value)


def _finalist(
    candidates: list[dict[str, Any]], members: list[int], name: str, customers: int | None
) -> Finalist:
    passing = [i for i in members if not failed_checks(candidates[i], customers)]
    pool = passing or members
    caveat = "" if passing else " (no candidate passed its checks)"
    if name == "mixture":
        # ICL, else BIC for a mixture whose memberships were not kept
        def criterion(i: int) -> float:
            c = candidates[i]
            return _number(c, "icl", _number(c, "bic", float("inf")))

        best = min(pool, key=lambda i: (criterion(i), candidates[i]["k"], i))
        key = "ICL" if candidates[best].get("icl") is not None else "BIC"
        why = f"the lowest {key} ({criterion(best):,.1f}) of {len(pool)} mixture(s)"
    elif name == "density":
        best = min(pool, key=lambda i: (-_number(candidates[i], "dbcv", -2.0), i))
        c = candidates[best]
        dbcv = c.get("dbcv")
        shown = "unmeasured" if dbcv is None else f"{dbcv:.2f}"
        why = f"the highest DBCV ({shown}) with {_number(c, 'noise_share', 0.0):.0%} noise"
    else:
        pacs = [candidates[i]["pac"] for i in pool if candidates[i].get("pac") is not None]
        lowest = min(pacs) if pacs else None
        if lowest is not None:
            pool = [i for i in pool if _number(candidates[i], "pac", lowest) <= lowest + PAC_TOLERANCE]
        best = min(pool, key=lambda i: (-candidates[i]["silhouette"], candidates[i]["k"], i))
        why = f"the highest silhouette ({candidates[best]['silhouette']:.3f})"
        if lowest is not None:
            why += f" among partitions whose PAC is within {PAC_TOLERANCE} of the lowest ({lowest:.3f})"
    return Finalist(index=best, family=name, passed=bool(passing), why=why + caveat)


def family_finalists(candidates: list[dict[str, Any]], customers: int | None = None) -> dict[str, Finalist]:
    """Each family's best eligible candidate by the family's own criterion (steps 1 and 2)."""
    eligible = _eligible(candidates)
    finalists = {}
    for name in FAMILIES:
        members = [i for i in eligible if family(candidates[i]["algorithm"]) == name]
        if members:
            finalists[name] = _finalist(candidates, members, name, customers)
    return finalists


def _holds(stability: Any, against: Any = None) -> bool:
    if stability is None:
        return True
    if stability < STABLE:
        return False
    return against is None or stability >= against - STABILITY_MARGIN


def _agreement_words(ari: float | None) -> str:
    return "" if ari is None else f"adjusted Rand {ari:.2f}"


def _by_checks(
    candidates: list[dict[str, Any]], a: Finalist, b: Finalist, customers: int | None
) -> tuple[Finalist, Finalist, str] | None:
    """When only one of two finalists passed its checks, it wins, and why; else None."""
    if a.passed == b.passed:
        return None
    won, lost = (a, b) if a.passed else (b, a)
    failed = "; ".join(failed_checks(candidates[lost.index], customers))
    return won, lost, f"it passed its checks and {_label(candidates[lost.index])} did not ({failed})"


def _mixture_or_partition(
    candidates: list[dict[str, Any]],
    mixture: Finalist,
    partition: Finalist,
    compare: Comparisons,
    customers: int | None,
) -> tuple[Finalist, Finalist, str]:
    """Step 3: the winner, the loser, and why, in words with figures."""
    m, p = candidates[mixture.index], candidates[partition.index]
    decided = _by_checks(candidates, mixture, partition, customers)
    if decided is not None:
        return decided
    ari = compare.agreement(mixture.index, partition.index)
    bic = compare.gaussian_bic(partition.index)
    icl = m.get("icl") if m.get("icl") is not None else m.get("bic")
    stable = _holds(m.get("stability"), p.get("stability"))
    agree = ari is not None and ari >= AGREE
    strong = icl is not None and bic is not None and icl + STRONG_EVIDENCE < bic
    if stable and strong and not agree and icl is not None and bic is not None:
        why = (
            f"its ICL ({icl:,.1f}) is lower than the Gaussian BIC of {_label(p)}'s partition "
            f"({bic:,.1f}) by {bic - icl:,.1f} (very strong evidence above {STRONG_EVIDENCE:g}), "
            f"its stability holds ({_figure(m.get('stability'))})"
        )
        if ari is not None:
            why += f" and the two disagree ({_agreement_words(ari)}): unequal or elongated groups the partition cuts"
        return mixture, partition, why
    sil_m, sil_p = m["silhouette"], p["silhouette"]
    won, lost = (mixture, partition) if sil_m > sil_p else (partition, mixture)
    why = (
        f"it has a higher silhouette ({candidates[won.index]['silhouette']:.3f} against "
        f"{candidates[lost.index]['silhouette']:.3f})"
    )
    if agree:
        why += f", and the two agree ({_agreement_words(ari)})"
    elif not strong:
        shown = "unmeasured" if bic is None or icl is None else f"{icl:,.1f} against {bic:,.1f}"
        why += f", and the mixture's ICL is not lower than the partition's Gaussian BIC by more than {STRONG_EVIDENCE:g} ({shown})"
    else:
        why += f", and the mixture's stability ({_figure(m.get('stability'))}) does not hold"
    return won, lost, why


def _figure(value: Any) -> str:
    return "unmeasured" if value is None else f"{value:.2f}"


def _density_or_other(
    candidates: list[dict[str, Any]],
    density: Finalist,
    other: Finalist,
    compare: Comparisons,
    customers: int | None,
) -> tuple[Finalist, Finalist, str]:
    """Step 4: the density finalist against the mixture-or-partition winner."""
    d, o = candidates[density.index], candidates[other.index]
    decided = _by_checks(candidates, density, other, customers)
    if decided is not None:
        return decided
    ari = compare.agreement(density.index, other.index)
    own, theirs = d.get("dbcv"), compare.dbcv(other.index)
    noise = _number(d, "noise_share", 0.0)
    name, failures = _label(d), []
    if not _holds(d.get("stability")):
        failures.append(f"{name}'s stability {d['stability']:.2f} is below {STABLE}")
    if noise > DENSITY_NOISE_WIN:
        failures.append(f"{name} leaves {noise:.0%} of customers as noise (above {DENSITY_NOISE_WIN:.0%})")
    if own is None or (theirs is not None and own < theirs + DBCV_MARGIN):
        failures.append(
            f"{name}'s DBCV ({_figure(own)}) does not beat {_label(o)}'s ({_figure(theirs)}) "
            f"by {DBCV_MARGIN} or more"
        )
    if ari is not None and ari >= AGREE:
        failures.append(f"the two agree ({_agreement_words(ari)}) and {_label(o)} places every customer")
    if failures:
        return other, density, "; ".join(failures)
    why = (
        f"it is stable ({_figure(d.get('stability'))}), leaves {noise:.0%} of customers as noise, "
        f"its DBCV ({own:.2f}) beats {_label(o)}'s ({_figure(theirs)}) by {DBCV_MARGIN} or more"
    )
    if ari is not None:
        why += f" and the two disagree ({_agreement_words(ari)}): groups of a shape the others cut"
    return density, other, why


def select(
    candidates: list[dict[str, Any]],
    rule: str = "combined",
    customers: int | None = None,
    compare: Comparisons = NO_COMPARISONS,
) -> tuple[int, str]:
    """Index of the winning candidate and a sentence saying why it won and why the runner-up lost.

    Under the combined rule, writes ``family`` on every eligible candidate; ``compare`` answers
    the across-family questions (without it, agreement, a non-density finalist's DBCV and a
    partition's Gaussian BIC count as unknown). Raises :class:`SegmentationError` when no
    candidate has two segments to compare.
    """
    winner, reason, _ = select_with_runner_up(candidates, rule, customers, compare)
    return winner, reason


def select_with_runner_up(
    candidates: list[dict[str, Any]],
    rule: str = "combined",
    customers: int | None = None,
    compare: Comparisons = NO_COMPARISONS,
) -> tuple[int, str, int | None]:
    """:func:`select`, plus the index of the runner-up (the losing family's finalist under the
    combined rule, the second best silhouette under the silhouette rule; None when alone)."""
    if rule not in RULES:
        raise SegmentationError(f"unknown selection rule '{rule}'; choose 'combined' or 'silhouette'")
    eligible = _eligible(candidates)
    if not eligible:
        raise SegmentationError(
            "no algorithm produced at least two segments on this data: try a wider k range, "
            "other algorithms, or more varied features"
        )
    if rule == "silhouette":
        order = sorted(eligible, key=lambda i: (-candidates[i]["silhouette"], candidates[i]["k"], i))
        best = candidates[order[0]]
        ks = [candidates[i]["k"] for i in eligible]
        tied = sum(candidates[i]["silhouette"] == best["silhouette"] for i in eligible) > 1
        reason = f"highest silhouette ({best['silhouette']:.3f}) among k = {min(ks)}..{max(ks)}" + (
            "; ties go to the smaller k" if tied else ""
        )
        return order[0], reason, (order[1] if len(order) > 1 else None)

    for i in eligible:
        candidates[i]["family"] = family(candidates[i]["algorithm"])
    finalists = family_finalists(candidates, customers)
    winner = finalists.get("mixture") or finalists.get("partition")
    runner: Finalist | None = None
    why = ""
    if "mixture" in finalists and "partition" in finalists:
        winner, runner, why = _mixture_or_partition(
            candidates, finalists["mixture"], finalists["partition"], compare, customers
        )
    if "density" in finalists:
        if winner is None:
            winner = finalists["density"]
        else:
            beaten = runner
            winner, runner, why = _density_or_other(
                candidates, finalists["density"], winner, compare, customers
            )
            if runner.family == "density" and beaten is not None:
                why += f" (the {beaten.family} finalist, {_label(candidates[beaten.index])}, lost before)"
    assert winner is not None  # some family has an eligible candidate
    reason = f"{_label(candidates[winner.index])} won the {winner.family} family by {winner.why}"
    if runner is None:
        return winner.index, reason + "; it was the only family tried", None
    reason += (
        f"; it won over the {runner.family} family's finalist, {_label(candidates[runner.index])} "
        f"(by {runner.why}), because {why}"
    )
    return winner.index, reason, runner.index
