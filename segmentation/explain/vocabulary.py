"""The words segments are named and acted on with, by the client's industry.

The behaviour behind a name is the same everywhere (:data:`segmentation.explain.names.RULES`
keys it: high monetary and not-high frequency is ``big_ticket_occasional``); what a retailer
calls "Big-ticket occasional buyers" a telecom calls "High-bill light users", and a welcome
offer on the second purchase means nothing to a subscriber. Each vocabulary gives every key a
name and its suggested actions; a key a vocabulary leaves out takes the generic words.

Longer than 400 lines because it is a table of words, one block per industry, read as a whole
when a vocabulary is reviewed; splitting it would only scatter the comparison.
"""

from __future__ import annotations

INDUSTRIES = ("retail", "subscription", "saas", "financial", "generic")
DEFAULT_INDUSTRY = "retail"
# How each industry reads on a form (the run form, the project's settings).
INDUSTRY_LABELS = {
    "retail": "Retail and e-commerce",
    "subscription": "Subscription and telecom",
    "saas": "SaaS and B2B",
    "financial": "Financial services",
    "generic": "Generic",
}

Words = dict[str, tuple[str, tuple[str, ...]]]

GENERIC: Words = {
    "new": (
        "New customers",
        (
            "Welcome programme in the first weeks; measure its effect against a holdout",
            "Find which first touchpoint lifts early engagement",
        ),
    ),
    "lapsing_one_timers": (
        "Inactive, infrequent customers",
        (
            "Low-cost reactivation message; measure against a holdout before spending more",
            "Ask a sample why they stopped",
        ),
    ),
    "lapsing_regulars": (
        "Lapsing frequent customers",
        (
            "Personal contact before they fully lapse; test against a holdout",
            "Check satisfaction with a short survey",
        ),
    ),
    "frequent_returners": (
        "High return or cancellation rate",
        (
            "Review the products or services behind their returns and cancellations",
            "Test clearer information before purchase",
        ),
    ),
    "loyal_high_spenders": (
        "Frequent, high-value customers",
        (
            "Recognition and service perks rather than discounts",
            "Watch for early signs of lapse; this value is worth protecting",
        ),
    ),
    "bargain_discount": (
        "Discount-driven customers",
        (
            "Target promotions here; avoid blanket discounts elsewhere",
            "Test offers that add value without deeper discounts",
        ),
    ),
    "bargain_low_spend": (
        "Frequent, low-value customers",
        (
            "Test bundles or upgrades that raise the value of each interaction",
            "Keep contact costs low",
        ),
    ),
    "big_ticket_occasional": (
        "High-value, infrequent customers",
        (
            "Time contact to their cycle",
            "Test premium service offers",
        ),
    ),
    "loyal_regulars": (
        "Frequent customers",
        (
            "Cross-sell what they have not tried yet",
            "Test whether a loyalty threshold raises their value",
        ),
    ),
    "recently_active": (
        "Recently active customers",
        (
            "Follow up while engagement is fresh",
            "Test a second-product offer",
        ),
    ),
    "occasional_low": (
        "Infrequent, low-value customers",
        (
            "Keep on low-cost channels; test one reactivation campaign a quarter",
            "Measure whether entry-level offers raise their frequency",
        ),
    ),
    "low_spenders": (
        "Low-value customers",
        (
            "Test an upsell of complementary products",
            "Keep contact costs low; prefer digital channels",
        ),
    ),
    "occasional": (
        "Infrequent customers",
        (
            "Reminders tied to their seasonal peaks",
            "Test a subscription or replenishment offer",
        ),
    ),
    "long_standing": (
        "Long-standing customers",
        (
            "Recognise their tenure",
            "Check satisfaction: long tenure with average value may hide potential",
        ),
    ),
    "long_standing_high_value": (
        "Long-standing, high-value customers",
        (
            "Protect the relationship: service reviews and recognition, not discounts",
            "Test a referral programme",
        ),
    ),
    "mainstream": (
        "Mainstream customers",
        (
            "Baseline for tests of new offers; the largest reach at standard cost",
            "Look for sub-groups with different outcomes before special treatment",
        ),
    ),
}

RETAIL: Words = {
    "new": (
        "New customers",
        (
            "Onboarding journey: welcome offer on the second purchase within 30 days",
            "Test which first-month touchpoint (email vs app push) lifts second-purchase rate",
        ),
    ),
    "lapsing_one_timers": (
        "Lapsing one-timers",
        (
            "Low-cost win-back email with a time-limited incentive; measure against a holdout",
            "Survey a sample on why they did not return",
            "Suppress from expensive channels if the win-back test shows no lift",
        ),
    ),
    "lapsing_regulars": (
        "Lapsing regulars",
        (
            "Personal win-back offer based on their past categories, sent before they fully lapse",
            "Test a service call or satisfaction check against a holdout group",
        ),
    ),
    "frequent_returners": (
        "Frequent returners",
        (
            "Review sizing and product information for the items they return most",
            "Test whether fit guidance at checkout lowers their return rate",
        ),
    ),
    "loyal_high_spenders": (
        "Loyal high spenders",
        (
            "VIP programme: early access and service perks rather than discounts",
            "Referral incentive test: do they bring look-alike customers?",
            "Monitor for early signs of lapse; protect this revenue",
        ),
    ),
    "bargain_discount": (
        "Bargain hunters",
        (
            "Target promotions and clearance; avoid blanket discounts to other segments",
            "Test bundle offers that raise basket size without deeper discounts",
        ),
    ),
    "bargain_low_spend": (
        "Bargain hunters",
        (
            "Target promotions and clearance; avoid blanket discounts to other segments",
            "Test bundle offers that raise basket size without deeper discounts",
        ),
    ),
    "big_ticket_occasional": (
        "Big-ticket occasional buyers",
        (
            "Replenishment or accessory reminders timed to their purchase cycle",
            "Test financing or premium service offers on high-value items",
        ),
    ),
    "loyal_regulars": (
        "Loyal regulars",
        (
            "Cross-sell into categories they have not bought yet",
            "Loyalty points test: does a tier threshold raise basket size?",
        ),
    ),
    "recently_active": (
        "Recently active",
        (
            "Follow-up recommendations while engagement is fresh",
            "Test a second-category offer to deepen the relationship",
        ),
    ),
    "occasional_low": (
        "Occasional low spenders",
        (
            "Keep on low-cost channels; test one reactivation campaign per quarter",
            "Measure whether entry-level product bundles raise their frequency",
        ),
    ),
    "low_spenders": (
        "Low spenders",
        (
            "Test upsell of complementary items at checkout",
            "Keep contact costs low; prioritise digital channels",
        ),
    ),
    "occasional": (
        "Occasional buyers",
        (
            "Reminder programme tied to seasonal peaks",
            "Test a subscription or replenishment offer",
        ),
    ),
    "long_standing": (
        "Long-standing customers",
        (
            "Thank-you and recognition for tenure; anniversary offers",
            "Check satisfaction: long tenure with average value may mean untapped potential",
        ),
    ),
    "long_standing_high_value": (
        "Long-standing high spenders",
        (
            "Recognition and early access rather than discounts",
            "Referral incentive test among them",
        ),
    ),
    "mainstream": GENERIC["mainstream"],
}

SUBSCRIPTION: Words = {
    "new": (
        "New subscribers",
        (
            "Onboarding check-in in the first 60 days: confirm the plan fits their use",
            "Test an early-life satisfaction call against a holdout",
        ),
    ),
    "lapsing_one_timers": (
        "Disengaged light users",
        (
            "Usage nudges showing what the plan includes; measure churn against a holdout",
            "Test a retention offer only where the churn model flags risk",
        ),
    ),
    "lapsing_regulars": (
        "Drifting heavy users",
        (
            "Proactive service contact: find out what changed before they cancel",
            "Test a retention offer against a holdout",
        ),
    ),
    "frequent_returners": (
        "High-cancellation customers",
        (
            "Review the services they cancel or dispute most",
            "Test clearer plan terms at sign-up",
        ),
    ),
    "loyal_high_spenders": (
        "High-usage, high-bill subscribers",
        (
            "Priority service and plan reviews rather than discounts",
            "Watch for early churn signals; this revenue is worth protecting",
        ),
    ),
    "bargain_discount": (
        "Promotion-driven subscribers",
        (
            "Plan the end of their promotion: offer the right plan before the price steps up",
            "Avoid blanket discounts to other segments",
        ),
    ),
    "bargain_low_spend": (
        "Heavy users on low plans",
        (
            "Test an upgrade to a plan that fits their use",
            "Check network or service quality for them",
        ),
    ),
    "big_ticket_occasional": (
        "High-bill light users",
        (
            "Review plan fit: they may pay for more than they use; right-size before they churn",
            "Test showing them what their plan includes",
        ),
    ),
    "loyal_regulars": (
        "Heavy users",
        (
            "Offer add-ons matched to their use",
            "Test a loyalty benefit against a holdout",
        ),
    ),
    "recently_active": (
        "Recently engaged subscribers",
        (
            "Follow up while they are engaged: feature tips and add-ons",
            "Test a referral offer",
        ),
    ),
    "occasional_low": (
        "Light, low-bill subscribers",
        (
            "Keep on low-cost channels",
            "Test whether a cheaper plan keeps them rather than losing them",
        ),
    ),
    "low_spenders": (
        "Low-bill subscribers",
        (
            "Test an upgrade path to a higher plan",
            "Keep contact costs low; prefer digital channels",
        ),
    ),
    "occasional": (
        "Light users",
        (
            "Usage nudges: show what the plan includes",
            "Test a cheaper plan before they leave",
        ),
    ),
    "long_standing": (
        "Long-tenure subscribers",
        (
            "Recognise their tenure; review their plan and price",
            "Check satisfaction before contract renewal",
        ),
    ),
    "long_standing_high_value": (
        "Long-tenure, high-bill subscribers",
        (
            "Renewal review ahead of contract end: protect this revenue",
            "Recognition and service perks rather than discounts",
        ),
    ),
    "mainstream": ("Mainstream subscribers", GENERIC["mainstream"][1]),
}

SAAS: Words = {
    "new": (
        "New accounts",
        (
            "Guided onboarding to the first value milestone",
            "Test an onboarding call against a holdout",
        ),
    ),
    "lapsing_one_timers": (
        "Inactive small accounts",
        (
            "Automated re-engagement with use cases; measure against a holdout",
            "Ask why they stopped using the product",
        ),
    ),
    "lapsing_regulars": (
        "Declining active accounts",
        (
            "Customer-success review before renewal",
            "Check for a lost champion or a competing tool",
        ),
    ),
    "frequent_returners": (
        "Accounts with many cancellations or refunds",
        (
            "Review the features behind refunds and cancellations",
            "Test clearer trial-to-paid terms",
        ),
    ),
    "loyal_high_spenders": (
        "Power accounts",
        (
            "Executive sponsor and roadmap previews",
            "Expansion: more seats or modules",
        ),
    ),
    "bargain_discount": (
        "Discount-driven accounts",
        (
            "Plan the renewal at list price with added value",
            "Avoid blanket discounts to other accounts",
        ),
    ),
    "bargain_low_spend": (
        "Heavy users on small plans",
        (
            "Test an upgrade to the plan their use needs",
            "Show the value of higher tiers",
        ),
    ),
    "big_ticket_occasional": (
        "High-revenue, light-usage accounts",
        (
            "Adoption programme: at risk at renewal if use stays low",
            "Customer-success health check",
        ),
    ),
    "loyal_regulars": (
        "Engaged accounts",
        (
            "Cross-sell modules they do not use yet",
            "Ask for case studies and referrals",
        ),
    ),
    "recently_active": (
        "Recently active accounts",
        (
            "Follow up on the features they just used",
            "Test an in-product upgrade prompt",
        ),
    ),
    "occasional_low": (
        "Small, light accounts",
        (
            "Self-serve resources; low-touch only",
            "Test a usage-based plan",
        ),
    ),
    "low_spenders": (
        "Small accounts",
        (
            "Test an upgrade path with a clear value step",
            "Low-touch, digital-only success",
        ),
    ),
    "occasional": (
        "Light-usage accounts",
        (
            "Adoption nudges tied to their use cases",
            "Health check before renewal",
        ),
    ),
    "long_standing": (
        "Established accounts",
        (
            "Renewal review and roadmap briefing",
            "Check satisfaction with the account's users",
        ),
    ),
    "long_standing_high_value": (
        "Established key accounts",
        (
            "Executive relationship and renewal planning well ahead",
            "Expansion into other teams",
        ),
    ),
    "mainstream": ("Mainstream accounts", GENERIC["mainstream"][1]),
}

FINANCIAL: Words = {
    "new": (
        "New clients",
        (
            "Onboarding contact: make sure the first products fit their needs",
            "Test a welcome review against a holdout",
        ),
    ),
    "lapsing_one_timers": (
        "Dormant, infrequent clients",
        (
            "Reactivation reminder about their accounts; measure against a holdout",
            "Check for accounts that can be closed or consolidated",
        ),
    ),
    "lapsing_regulars": (
        "Lapsing active clients",
        (
            "Relationship manager contact before they move their business",
            "Check satisfaction",
        ),
    ),
    "frequent_returners": (
        "Clients with frequent reversals",
        (
            "Review the transactions behind reversals and disputes",
            "Check for fraud or service problems",
        ),
    ),
    "loyal_high_spenders": (
        "Active, high-value clients",
        (
            "Dedicated service and advice rather than rate offers",
            "Watch for signs they are moving assets",
        ),
    ),
    "bargain_discount": (
        "Offer-driven clients",
        (
            "Plan the end of promotional rates",
            "Avoid blanket rate offers to other segments",
        ),
    ),
    "bargain_low_spend": (
        "Active, low-value clients",
        (
            "Test products that fit their activity",
            "Keep servicing costs low",
        ),
    ),
    "big_ticket_occasional": (
        "High-value, infrequent clients",
        (
            "Periodic advice reviews timed to their needs",
            "Test premium advisory services",
        ),
    ),
    "loyal_regulars": (
        "Active clients",
        (
            "Cross-sell products they do not hold",
            "Test a relationship benefit",
        ),
    ),
    "recently_active": (
        "Recently active clients",
        (
            "Follow up on their recent activity with relevant products",
            "Test a digital-service offer",
        ),
    ),
    "occasional_low": (
        "Low-activity, low-value clients",
        (
            "Digital self-service; low-cost contact only",
            "Check for dormant accounts",
        ),
    ),
    "low_spenders": (
        "Low-value clients",
        (
            "Test entry-level products",
            "Keep servicing costs low",
        ),
    ),
    "occasional": (
        "Infrequent clients",
        (
            "Reminders at the moments they need the service",
            "Test a regular-saving product",
        ),
    ),
    "long_standing": (
        "Long-standing clients",
        (
            "Recognise the relationship; review their products",
            "Check satisfaction",
        ),
    ),
    "long_standing_high_value": (
        "Long-standing, high-value clients",
        (
            "Relationship review with an adviser",
            "Protect the relationship rather than discount",
        ),
    ),
    "mainstream": ("Mainstream clients", GENERIC["mainstream"][1]),
}

VOCABULARIES: dict[str, Words] = {
    "retail": RETAIL,
    "subscription": SUBSCRIPTION,
    "saas": SAAS,
    "financial": FINANCIAL,
    "generic": GENERIC,
}


def words(key: str, industry: str = DEFAULT_INDUSTRY) -> tuple[str, tuple[str, ...]]:
    """The name and actions of archetype ``key`` in ``industry``'s vocabulary."""
    vocabulary = VOCABULARIES.get(industry, GENERIC)
    return vocabulary.get(key) or GENERIC[key]
