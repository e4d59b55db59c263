"""Business names for segments, read off which behaviours are high or low against the population.

A feature's role (recency, frequency, monetary, tenure, discount, refund) is recognised from
its name. A role is "high" for a segment when the segment's mean is at least ``LEVEL`` standard
deviations above the population's (its standardised mean difference), "low" when as far below.
The first rule in ``RULES`` that matches names the segment; when no feature has a known role
the name lists the most distinctive features instead ("High basket size, low visits").
"""

from __future__ import annotations

import re

import pandas as pd

from .vocabulary import DEFAULT_INDUSTRY, VOCABULARIES, words

LEVEL = 0.5
NOTABLE_DIFFERENCE = 0.25
TRAITS_IN_NAME = 2

ROLE_PATTERNS = {
    "recency": r"recen|days_since|since_last|last_(order|purchase|visit|seen)|inactive",
    "frequency": r"frequen|orders|purchases|visits|transactions|n_orders|order_count|txn|sessions|logins|usage",
    "monetary": r"monetary|spend|revenue|amount|value|basket|sales|aov|clv|ltv|total|charge|bill|arpu|fee",
    "tenure": r"tenure|customer_since|first_(order|purchase)|account_age|months_active|age_days",
    "discount": r"discount|coupon|promo|voucher|markdown",
    "refund": r"refund|return|cancel",
}

# (archetype, conditions) where a condition is (role, "high" | "low" | "not high" | "not low").
# Every role a rule names must be measured by some feature: a name never claims a behaviour no
# feature measured ("occasional" needs a frequency feature). The words are by industry
# (:mod:`segmentation.explain.vocabulary`).
RULES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("new", (("tenure", "low"), ("recency", "not high"))),
    ("lapsing_one_timers", (("recency", "high"), ("frequency", "low"))),
    ("lapsing_regulars", (("recency", "high"), ("frequency", "not low"))),
    ("frequent_returners", (("refund", "high"),)),
    ("loyal_high_spenders", (("frequency", "high"), ("monetary", "high"))),
    ("bargain_discount", (("discount", "high"),)),
    ("bargain_low_spend", (("monetary", "low"), ("frequency", "not low"))),
    ("big_ticket_occasional", (("monetary", "high"), ("frequency", "not high"))),
    ("loyal_regulars", (("frequency", "high"),)),
    ("recently_active", (("recency", "low"), ("frequency", "not low"))),
    ("long_standing_high_value", (("tenure", "high"), ("monetary", "high"))),
    ("occasional_low", (("frequency", "low"), ("monetary", "low"))),
    ("low_spenders", (("monetary", "low"),)),
    ("occasional", (("frequency", "low"),)),
    ("long_standing", (("tenure", "high"),)),
)
MAINSTREAM = "mainstream"
GENERIC_ACTIONS = (
    "Validate the segment with the business team: does the profile match a group they recognise?",
    "Run a small test campaign tailored to the segment's distinguishing features against a holdout",
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def readable(column: str) -> str:
    """A column name as words: ``MonthlyCharges`` -> "monthly charges", ``avg_basket`` ->
    "avg basket"; an acronym stays as written (``CLV``)."""
    words = []
    for part in re.split(r"[_\s.\-]+", _CAMEL.sub(" ", str(column)).strip()):
        for word in part.split():
            words.append(word if word.isupper() and len(word) > 1 else word.lower())
    return " ".join(words) or str(column)


def column_label(column: str) -> str:
    """A column as it heads a line for a reader: ``MonthlyCharges`` -> "Monthly charges",
    ``CLV_score`` -> "CLV score" (the words of :func:`readable`, the first one capitalised)."""
    text = readable(column)
    return text[:1].upper() + text[1:]


def humanize(column: str) -> str:
    return readable(column)


def role_of(column: str) -> str | None:
    name = readable(column).replace(" ", "_").lower()
    for role, pattern in ROLE_PATTERNS.items():
        if re.search(pattern, name):
            return role
    return None


def _level(value: float | None, wanted: str) -> bool:
    if value is None:
        return wanted.startswith("not")  # an absent role is neither high nor low
    return {
        "high": value >= LEVEL,
        "low": value <= -LEVEL,
        "not high": value < LEVEL,
        "not low": value > -LEVEL,
    }[wanted]


# The engineered log's missingness flags (segmentation.data.features) say a behaviour in words:
# "high interval missing" would name the flag, not the customers. (more of them, fewer of them)
FLAG_TRAITS = {
    "interval_missing": ("mostly single purchases", "repeat buyers"),
    "momentum_missing": ("no spend in 180 days", "recent spend"),
    "no_purchases": ("refunds only", "purchases"),
    "no_spend": ("no spend", "some spend"),
}


def trait(feature: str, value: float) -> str:
    """One distinctive feature as words: "high monthly charges", "mostly single purchases"."""
    if feature in FLAG_TRAITS:
        return FLAG_TRAITS[feature][0 if value > 0 else 1]
    return f"{'high' if value > 0 else 'low'} {readable(feature)}"


def trait_name(smd: pd.Series, industry: str = DEFAULT_INDUSTRY) -> str:
    """Name after the most distinctive features, e.g. "High monthly charges, low tenure"."""
    ranked = smd.abs().sort_values(ascending=False, kind="stable")
    parts = []
    for feature in ranked.index[:TRAITS_IN_NAME]:
        value = smd[feature]
        if abs(value) < NOTABLE_DIFFERENCE:
            break
        parts.append(trait(str(feature), float(value)))
    if not parts:
        return words(MAINSTREAM, industry)[0]
    name = ", ".join(parts)
    return name[0].upper() + name[1:]


def archetype_key(smd: pd.Series) -> str | None:
    """The behaviour a segment with standardised mean differences ``smd`` shows, by
    :data:`RULES`; ``"mainstream"`` when nothing stands out; None when only a trait name fits."""
    by_role: dict[str, list[float]] = {}
    for feature, value in smd.items():
        role = role_of(str(feature))
        if role is not None and pd.notna(value):
            by_role.setdefault(role, []).append(float(value))
    if not by_role:
        return MAINSTREAM if smd.abs().max() < NOTABLE_DIFFERENCE else None
    levels = {role: sum(v) / len(v) for role, v in by_role.items()}
    for key, conditions in RULES:
        if any(role not in levels for role, _ in conditions):
            continue
        if all(_level(levels[role], wanted) for role, wanted in conditions):
            return key
    if smd.abs().max() < LEVEL:
        return MAINSTREAM
    return None


def archetype(smd: pd.Series, industry: str = DEFAULT_INDUSTRY) -> str:
    """The business name for a segment with standardised mean differences ``smd`` per feature."""
    key = archetype_key(smd)
    return words(key, industry)[0] if key else trait_name(smd, industry)


def actions_for(name: str, industry: str = DEFAULT_INDUSTRY) -> tuple[str, ...]:
    """The suggested actions of an archetype's name in ``industry``; generic ones for a trait name."""
    vocabulary = VOCABULARIES.get(industry, VOCABULARIES["generic"])
    for candidate in (vocabulary, VOCABULARIES["generic"]):
        for found, actions in candidate.values():
            if found == name:
                return actions
    return GENERIC_ACTIONS
