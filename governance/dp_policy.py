"""Under a differential-privacy policy only noisy tables leave the platform.

A version whose spec sets ``dp_epsilon`` promised its profile would be released privately: the
exact profile (``profile.csv`` and ``.xlsx``) and the documents that print exact sizes and means
(the decks and reports) stay on the platform, and the version's noisy releases are offered in
their place. Every way out (one file, the ZIP, the approved pack, the API) asks here.
"""

from __future__ import annotations

from segplatform.errors import ApplicationError

from .models import SegmentVersion

WITHHELD_UNDER_DP = frozenset(
    {
        "profile.csv",
        "profile.xlsx",
        "deck.pptx",
        "deck-approved.pptx",
        "report.pdf",
        "report-approved.pdf",
        # exact per-segment CLV and state shares, and per-customer predictions
        "lifecycle.json",
        "clv.csv",
        "movers.csv",
    }
)


def dp_policy_applies(version: SegmentVersion) -> bool:
    return version.segmentation_spec.dp_epsilon is not None


def dp_withheld_reason(version: SegmentVersion, kind: str) -> str | None:
    """Why ``kind`` may not leave the platform for this version, or None when it may."""
    if kind not in WITHHELD_UNDER_DP or not dp_policy_applies(version):
        return None
    return (
        f"{kind} of {version.label} is withheld: its spec sets a differential-privacy budget "
        "(dp_epsilon), so only noisy tables leave the platform. Request a differentially private "
        "release on the version's page and download that instead."
    )


def dp_withheld_check(version: SegmentVersion, kind: str) -> None:
    """Refuse, with the reason, a file the version's DP policy keeps on the platform."""
    reason = dp_withheld_reason(version, kind)
    if reason is not None:
        raise ApplicationError(reason)
