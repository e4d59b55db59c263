"""The governance and reference parts of a report: bias audit, privacy, version status, appendix.

Each part is a :class:`Section` (headed groups of sentences and at most one table) built from
plain values, so the deck and the PDF render the same words. Never imports Django: the caller
(``reports.services``) reads the stored records and passes dicts and lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from segmentation.explain.names import role_of
from segmentation.result import Rule, Rules, RunMetrics

from .formatting import DASH, feature_label, format_count, format_metric, format_share
from .reading import as_float, as_int, mapping

ROLE_TEXT = {
    "recency": "how recently the customer bought (recency)",
    "frequency": "how often the customer buys (frequency)",
    "monetary": "how much the customer spends (monetary value)",
    "tenure": "how long the customer has been with the business (tenure)",
    "discount": "use of discounts and promotions",
    "refund": "returns, refunds or cancellations",
}
STATUS_LABELS = {
    "draft": "Draft",
    "in_review": "In review",
    "approved": "Approved",
    "rejected": "Rejected",
    "retired": "Retired",
}


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    # indexes of columns holding numbers (right-aligned)
    numeric: tuple[int, ...] = ()
    caption: str = ""


@dataclass(frozen=True)
class Section:
    """A titled part of the report: headed groups of plain sentences and an optional table."""

    key: str
    title: str
    groups: tuple[tuple[str, tuple[str, ...]], ...]
    table: Table | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def text(self) -> str:
        """Every word of the section, for searching and tests."""
        parts = [self.title, *(h for h, _ in self.groups), *(x for _, lines in self.groups for x in lines)]
        if self.table is not None:
            parts += [*self.table.headers, *(cell for row in self.table.rows for cell in row)]
        return " ".join(parts)


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return f"{value.day} {value:%B %Y, %H:%M} UTC"
    return str(value) if value else DASH


# -- bias ------------------------------------------------------------------------------------


def bias_section(bias: Mapping[str, Any] | None, segment_names: Mapping[int, str]) -> Section:
    """The bias audit in plain language: findings, four-fifths flags, proxies, mitigations."""
    bias = mapping(bias)
    protected = [str(c) for c in bias.get("protected_columns") or []]
    if not protected:
        return Section(
            "bias",
            "Bias audit",
            (
                (
                    "No protected attributes declared",
                    (
                        "No column was marked as a protected attribute (such as gender, age band or "
                        "ethnicity) for this run, so no bias audit was run for this version.",
                        "Segment membership has not been compared across protected groups and no proxy check "
                        "was made: nothing here shows the segments are free of bias.",
                        "To audit, tick the attributes under the run form's protected columns and run "
                        "again; they are kept out of the clustering features.",
                    ),
                ),
            ),
        )
    findings = mapping(bias.get("findings"))
    rows = [r for r in bias.get("rows") or [] if isinstance(r, Mapping)]
    flagged = [r for r in rows if r.get("four_fifths_flag")]
    groups: list[tuple[str, tuple[str, ...]]] = [
        (
            "Findings",
            (
                f"Protected attributes audited: {', '.join(protected)}; they were not used to form the segments.",
                *[str(line) for line in findings.get("findings") or []],
            ),
        )
    ]
    proxies = []
    for attribute, entry in mapping(findings.get("proxies")).items():
        entry = mapping(entry)
        auc = as_float(entry.get("auc"))
        named = ", ".join(
            f"{feature_label(str(p.get('feature')))} (MI {format_metric(as_float(p.get('mutual_information')), 2)})"
            for p in entry.get("proxies") or []
            if isinstance(p, Mapping)
        )
        strength = (
            "not measured"
            if auc is None
            else f"AUC {auc:.2f}" + (" (0.5 = no better than chance)" if auc < 0.6 else "")
        )
        proxies.append(
            f"{attribute}: predictable from the features with {strength}; strongest proxies: {named or 'none'}."
        )
    if proxies:
        groups.append(("Strongest proxies", tuple(proxies)))
    mitigations = tuple(str(m) for m in findings.get("mitigation_options") or [])
    if mitigations:
        groups.append(("Mitigation options", mitigations))
    table = None
    if flagged:
        table = Table(
            ("Attribute", "Group", "Segment", "In segment", "Ratio"),
            tuple(
                (
                    str(r.get("attribute")),
                    str(r.get("group")),
                    segment_names.get(as_int(r.get("segment")), f"Segment {r.get('segment')}"),
                    format_share(as_float(r.get("segment_share"))),
                    format_metric(as_float(r.get("demographic_parity_ratio")), 2),
                )
                for r in flagged
            ),
            numeric=(3, 4),
            caption="Groups flagged by the four-fifths rule: the share of the group that falls in the "
            "segment is below 80% of the most represented group's share.",
        )
    else:
        groups.insert(1, ("Four-fifths rule", ("No group is flagged by the four-fifths rule.",)))
    return Section("bias", "Bias audit", tuple(groups), table)


# -- privacy ---------------------------------------------------------------------------------


def privacy_section(privacy: Mapping[str, Any] | None) -> Section:
    """What was done to protect the people in the data, and plainly what was not assessed."""
    privacy = mapping(privacy)
    risk = mapping(privacy.get("risk"))
    quasi = [str(c) for c in privacy.get("quasi_identifiers") or risk.get("quasi_identifiers") or []]
    sensitive = [str(c) for c in privacy.get("sensitive") or risk.get("sensitive") or []]
    target = as_int(privacy.get("target_k"))
    k = as_int(risk.get("k_anonymity"), default=-1)
    lines: list[str] = []
    not_assessed: list[str] = []
    if quasi and k >= 0:
        reached = f"k = {k} on the quasi-identifiers {', '.join(quasi)}"
        verdict = (
            f"meets the project's threshold of k = {target}"
            if target and k >= target
            else f"below the project's threshold of k = {target}: record-level exports are refused until "
            "the quasi-identifiers are generalised"
            if target
            else "no project threshold is set"
        )
        lines.append(f"k-anonymity reached: {reached} ({verdict}).")
        below = mapping(risk.get("rows_in_classes_below"))
        if target and str(target) in below:
            count = as_int(below[str(target)])
            lines.append(
                f"{format_count(count)} customers sit in groups smaller than {target}."
                if count
                else f"No customer sits in a group smaller than {target}."
            )
    else:
        not_assessed.append("k-anonymity: no quasi-identifiers were marked for this data.")
    if sensitive:
        lines.append(
            f"Sensitive attributes {', '.join(sensitive)}: distinct l-diversity {risk.get('l_diversity', DASH)}, "
            f"t-closeness {format_metric(as_float(risk.get('t_closeness')), 2)}."
        )
    else:
        not_assessed.append("l-diversity and t-closeness: no sensitive attributes were marked.")
    decisions = mapping(privacy.get("decisions"))
    treated = [f"{column} {mapping(d).get('action', 'kept')}" for column, d in decisions.items()]
    treated = [
        t.replace(" drop", " dropped").replace(" mask", " masked").replace(" pseudonymise", " pseudonymised")
        for t in treated
    ]
    if treated:
        lines.append("Direct identifiers: " + ", ".join(treated) + ".")
    elif privacy.get("reviewed"):
        lines.append(
            "No direct identifiers (e-mail, phone, name, address, ID or card numbers) were detected."
        )
    else:
        not_assessed.append("direct identifiers: this data had no privacy review.")
    generalised = privacy.get("generalised")
    if generalised:
        lines.append(f"Generalised or suppressed: {generalised}.")
    else:
        lines.append(
            "Nothing was generalised or suppressed in the data behind this version; record-level exports "
            f"are generalised (intervals, prefixes, removal of whole columns, then suppression) to reach k = {target or DASH} "
            "or refused."
        )
    identity = mapping(privacy.get("identity"))
    if identity.get("pseudonymised"):
        lines.append(
            f"Customer id ({identity.get('column')}) is a keyed HMAC-SHA256 pseudonym: only the holder "
            "of the project key can link labels back to the client's ids."
        )
    else:
        lines.append(
            f"Customer id ({identity.get('column') or 'id'}) is the client's own opaque id, kept as given."
        )
    releases = [mapping(r) for r in privacy.get("dp_releases") or []]
    budget = as_float(privacy.get("dp_budget"))
    if releases:
        spent = sum(as_float(r.get("epsilon")) or 0.0 for r in releases)
        lines.append(
            f"Differential privacy: {len(releases)} release(s) of the profile, ε = {spent:g} spent"
            + (f" of a budget of {budget:g}." if budget is not None else ".")
        )
    else:
        lines.append(
            "Differential privacy: no noisy release had been made when this document was built"
            + (f" (budget ε = {budget:g})." if budget is not None else ".")
        )
    not_assessed.append(
        "linkage with other data the client or a third party holds, and the sensitivity of segment "
        "membership itself, are outside these measures."
    )
    groups = (("What was done", tuple(lines)), ("Not assessed", tuple(not_assessed)))
    return Section("privacy", "Privacy statement", groups)


# -- version and approval --------------------------------------------------------------------


def status_section(lifecycle: Mapping[str, Any] | None, *, version_id: str, version_hash: str) -> Section:
    """Version label, hash, parent and the lifecycle status with who, when and why."""
    lifecycle = mapping(lifecycle)
    status = str(lifecycle.get("status") or "draft")
    built = _when(lifecycle.get("built_at"))
    history = [mapping(h) for h in lifecycle.get("history") or []]
    parent = lifecycle.get("parent")
    parent_hash = str(lifecycle.get("parent_hash") or "")
    rows = [
        ("Version", version_id),
        ("Version hash", version_hash or DASH),
        ("Parent", f"{parent} · {parent_hash[:12]}" if parent else "none (first version of the project)"),
        (
            "Created",
            f"{_when(lifecycle.get('created_at'))} by {lifecycle.get('created_by') or 'the command line'}",
        ),
        ("Status", f"{STATUS_LABELS.get(status, status)} when this document was built ({built})"),
        ("Code version", str(lifecycle.get("code_version") or DASH)),
    ]
    steps = [
        f"{STATUS_LABELS.get(str(h.get('status')), h.get('status'))} on {_when(h.get('at'))} by "
        f"{h.get('actor') or 'system'}" + (f": {h.get('reason')}" if h.get("reason") else ".")
        for h in history
    ] or ["No review step yet: the version is a draft, not approved for use."]
    notes = (
        f"This is the status when the document was built ({built}). Approval, rejection and retirement "
        "happen later in the portal; check the version's current status there before acting on it.",
        "A version is never edited: any change to spec, data or model gives a new version with a new hash.",
    )
    table = Table(("Item", "Value"), tuple(rows))
    return Section(
        "status", "Version and approval status", (("Lifecycle", tuple(steps)), ("Read this", notes)), table
    )


# -- appendix --------------------------------------------------------------------------------


def feature_section(metrics: RunMetrics, features: Sequence[str], means: Sequence[float]) -> Section:
    """Feature definitions and data quality."""
    rows = []
    for feature, mean in zip(features, means, strict=True):
        role = role_of(feature)
        meaning = ROLE_TEXT.get(role or "", "as given in the input")
        rows.append(
            (
                feature_label(feature),
                f"{feature}: {meaning}",
                format_metric(mean, 2),
                format_count(metrics.missing.get(feature, 0)),
                format_count(metrics.unparsable.get(feature, 0)),
            )
        )
    quality, details = metrics.data_quality, metrics.transactions
    lines = [
        f"Rows read: {format_count(quality.rows)}; rows without a customer id "
        f"dropped: {format_count(quality.rows_without_id)}.",
        f"Missing feature values filled with the {metrics.imputation or 'median'}: "
        f"{format_count(quality.missing_feature_values)} "
        f"(of which {format_count(quality.unparsable_cells)} were cells that could not be read as numbers).",
    ]
    if details.as_of:
        lines.append(f"Features computed from the transaction log as of {details.as_of}.")
    for column, why in details.features_left_out.items():
        lines.append(f"{feature_label(column)} was left out: {why}.")
    table = Table(
        ("Feature", "Definition", "Average", "Missing", "Unreadable"), tuple(rows), numeric=(2, 3, 4)
    )
    return Section(
        "features", "Appendix: features and data quality", (("Data quality", tuple(lines)),), table
    )


# -- per segment: the rule that assigns it and what to do ------------------------------------

MAX_RULES = 3


def _condition(feature: str, op: str, threshold: float) -> str:
    symbol = "\u2264" if op == "<=" else ">"
    return f"{feature_label(feature)} {symbol} {threshold:.4g}"


def rule_sentence(rule: Rule | Mapping[str, Any]) -> str:
    """One rule (typed, or as stored in ``rules.json``) as a reader says it:
    'Recency days > 11.05 and ≤ 115.8 and Tenure months ≤ 62.5'."""
    if not isinstance(rule, Rule):
        rule = Rule.from_dict(rule)
    if not rule.conditions:
        return rule.text or "every customer"
    parts: list[str] = []
    previous = None
    for c in rule.conditions:
        feature = c.feature
        text = _condition(feature, c.op, c.threshold or 0.0)
        if feature == previous:  # "> a and <= b" on one feature reads as one range
            text = text[len(feature_label(feature)) + 1 :]
        parts.append(text)
        previous = feature
    return " and ".join(parts)


def segment_rules(rules: Rules | None, segment: int) -> tuple[tuple[str, ...], str]:
    """The rules that assign ``segment`` (largest first, at most MAX_RULES) and a note on the rest."""
    if rules is None or not rules.rules:
        return (), "No decision-tree rules were fitted for this version."
    mine = rules.for_segment(segment)
    if not mine:
        return (
            (),
            "No rule of the surrogate tree predicts this segment; it is assigned by nearest segment mean.",
        )
    lines = tuple(
        f"IF {rule_sentence(r)} ({format_share(r.support)} of customers, {format_share(r.precision)} correct)"
        for r in mine[:MAX_RULES]
    )
    rest = mine[MAX_RULES:]
    note = ""
    if rest:
        covered = sum(r.support or 0.0 for r in rest)
        note = (
            f"{len(rest)} smaller rule(s) cover another {format_share(covered)} of customers (see rules.txt)."
        )
    return lines, note


def fidelity_text(rules: Rules | None) -> str:
    fidelity = None if rules is None else rules.fidelity
    if fidelity is None:
        return "No decision-tree rules were fitted for this version."
    return (
        f"The rules are a decision tree that agrees with the segmentation on {format_share(fidelity)} "
        "of held-out customers; the scorers assign by nearest segment mean."
    )


def segment_actions(raw: Any) -> tuple[str, ...]:
    """Suggested actions and experiments stored in the profile ("a | b" or a list)."""
    if isinstance(raw, str):
        items = raw.split("|")
    elif isinstance(raw, Sequence):
        items = [str(x) for x in raw]
    else:
        items = []
    return tuple(item.strip().rstrip(".") + "." for item in items if item and item.strip())
