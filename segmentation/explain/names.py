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

LEVEL = 0.5
NOTABLE_DIFFERENCE = 0.25
TRAITS_IN_NAME = 2

ROLE_PATTERNS = {
    "recency": r"recen|days_since|since_last|last_(order|purchase|visit|seen)|inactive",
    "frequency": r"frequen|orders|purchases|visits|transactions|n_orders|order_count|txn",
    "monetary": r"monetary|spend|revenue|amount|value|basket|sales|aov|clv|ltv|total",
    "tenure": r"tenure|customer_since|first_(order|purchase)|account_age|months_active|age_days",
    "discount": r"discount|coupon|promo|voucher|markdown",
    "refund": r"refund|return|cancel",
}

# (name, conditions) where a condition is (role, "high" | "low" | "not high" | "not low").
RULES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("New customers", (("tenure", "low"), ("recency", "not high"))),
    ("Lapsing one-timers", (("recency", "high"), ("frequency", "low"))),
    ("Lapsing regulars", (("recency", "high"), ("frequency", "not low"))),
    ("Frequent returners", (("refund", "high"),)),
    ("Loyal high spenders", (("frequency", "high"), ("monetary", "high"))),
    ("Bargain hunters", (("discount", "high"),)),
    ("Bargain hunters", (("monetary", "low"), ("frequency", "not low"))),
    ("Big-ticket occasional buyers", (("monetary", "high"), ("frequency", "not high"))),
    ("Loyal regulars", (("frequency", "high"),)),
    ("Recently active", (("recency", "low"), ("frequency", "not low"))),
    ("Occasional low spenders", (("frequency", "low"), ("monetary", "low"))),
    ("Low spenders", (("monetary", "low"),)),
    ("Occasional buyers", (("frequency", "low"),)),
    ("Long-standing customers", (("tenure", "high"),)),
)

ACTIONS = {
    "New customers": (
        "Onboarding journey: welcome offer on the second purchase within 30 days",
        "Test which first-month touchpoint (email vs app push) lifts second-purchase rate",
    ),
    "Lapsing one-timers": (
        "Low-cost win-back email with a time-limited incentive; measure against a holdout",
        "Survey a sample on why they did not return",
        "Suppress from expensive channels if the win-back test shows no lift",
    ),
    "Lapsing regulars": (
        "Personal win-back offer based on their past categories, sent before they fully lapse",
        "Test a service call or satisfaction check against a holdout group",
    ),
    "Frequent returners": (
        "Review sizing and product information for the items they return most",
        "Test whether fit guidance at checkout lowers their return rate",
    ),
    "Loyal high spenders": (
        "VIP programme: early access and service perks rather than discounts",
        "Referral incentive test: do they bring look-alike customers?",
        "Monitor for early signs of lapse; protect this revenue",
    ),
    "Bargain hunters": (
        "Target promotions and clearance; avoid blanket discounts to other segments",
        "Test bundle offers that raise basket size without deeper discounts",
    ),
    "Big-ticket occasional buyers": (
        "Replenishment or accessory reminders timed to their purchase cycle",
        "Test financing or premium service offers on high-value items",
    ),
    "Loyal regulars": (
        "Cross-sell into categories they have not bought yet",
        "Loyalty points test: does a tier threshold raise basket size?",
    ),
    "Recently active": (
        "Follow-up recommendations while engagement is fresh",
        "Test a second-category offer to deepen the relationship",
    ),
    "Occasional low spenders": (
        "Keep on low-cost channels; test one reactivation campaign per quarter",
        "Measure whether entry-level product bundles raise their frequency",
    ),
    "Low spenders": (
        "Test upsell of complementary items at checkout",
        "Keep contact costs low; prioritise digital channels",
    ),
    "Occasional buyers": (
        "Reminder programme tied to seasonal peaks",
        "Test a subscription or replenishment offer",
    ),
    "Long-standing customers": (
        "Thank-you and recognition for tenure; anniversary offers",
        "Check satisfaction: long tenure with average value may mean untapped potential",
    ),
    "Mainstream customers": (
        "Baseline for A/B tests of new offers; the largest reach at standard cost",
        "Look for sub-groups with outcome differences before investing in special treatment",
    ),
}
GENERIC_ACTIONS = (
    "Validate the segment with the business team: does the profile match a group they recognise?",
    "Run a small test campaign tailored to the segment's distinguishing features against a holdout",
)


def humanize(column: str) -> str:
    return column.replace("_", " ").strip()


def role_of(column: str) -> str | None:
    name = column.lower().replace(" ", "_")
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


def trait_name(smd: pd.Series) -> str:
    """Name after the most distinctive features, e.g. "High monetary, low recency"."""
    ranked = smd.abs().sort_values(ascending=False, kind="stable")
    parts = []
    for feature in ranked.index[:TRAITS_IN_NAME]:
        value = smd[feature]
        if abs(value) < NOTABLE_DIFFERENCE:
            break
        parts.append(f"{'high' if value > 0 else 'low'} {humanize(str(feature))}")
    if not parts:
        return "Mainstream customers"
    name = ", ".join(parts)
    return name[0].upper() + name[1:]


def archetype(smd: pd.Series) -> str:
    """The business name for a segment with standardised mean differences ``smd`` per feature."""
    by_role: dict[str, list[float]] = {}
    for feature, value in smd.items():
        role = role_of(str(feature))
        if role is not None and pd.notna(value):
            by_role.setdefault(role, []).append(float(value))
    if not by_role:
        return trait_name(smd)
    levels = {role: sum(v) / len(v) for role, v in by_role.items()}
    for name, conditions in RULES:
        if any(role not in levels for role, wanted in conditions if not wanted.startswith("not")):
            continue
        if all(_level(levels.get(role), wanted) for role, wanted in conditions):
            return name
    if all(abs(v) < LEVEL for v in levels.values()):
        return "Mainstream customers" if smd.abs().max() < LEVEL else trait_name(smd)
    return trait_name(smd)


def actions_for(name: str) -> tuple[str, ...]:
    return ACTIONS.get(name, GENERIC_ACTIONS)
