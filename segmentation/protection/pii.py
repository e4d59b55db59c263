"""Detecting direct identifiers in a customer table, and removing or pseudonymising them.

A column is flagged by its name, by its values, or both. Value checks are strict where a loose
pattern would flag ordinary data: a payment card must pass the Luhn check *and* start with a
card network's prefix, and a column named like a product code (SKU, EAN, item) is never a card
column; a phone number needs a leading ``+``, ``0`` or ``(`` and 9 to 15 digits.

Nothing here stores anything: the caller decides what to do with each finding (``keep``,
``drop``, ``mask`` or ``pseudonymise``) and :func:`anonymise` applies those decisions.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from ..errors import SegmentationError
from .first_names import COMMON_FIRST_NAMES
from .free_text import (
    IN_TEXT_LABELS,
    birth_date,
    enough_pii,
    is_free_text,
    redact,
    scan_free_text,
    typed_date,
)

SAMPLE_ROWS = 2000
ACTIONS = ("keep", "drop", "mask", "pseudonymise")

LABELS = {
    "email": "E-mail addresses",
    "phone": "Phone numbers",
    "person_name": "Person names",
    "street_address": "Street addresses",
    "national_id": "National ID / passport numbers",
    "ip_address": "IP addresses",
    "payment_card": "Payment card numbers",
    "date_of_birth": "Dates of birth",
    "free_text": "Personal data inside free text",
}


def _name(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


NAME_HINTS: dict[str, re.Pattern[str]] = {
    "email": _name(r"e_?mail"),
    "phone": _name(r"phone|mobile|cell(_?no|_?number)?$|^tel$|telephone|msisdn|^fax"),
    "person_name": _name(
        r"^(first|last|full|given|family|middle|sur|fore|customer|contact|client|person|member|holder)?_?name$"
        r"|surname|forename|firstname|lastname|fullname"
    ),
    "street_address": _name(r"address|street|^addr"),
    "national_id": _name(
        r"national_?id|id_?(number|no)$|^ssn$|social_?security|passport|^nino?$|tax_?id|identity"
    ),
    "ip_address": _name(r"^ip$|ip_?addr|^ip_|_ip$"),
    "payment_card": _name(r"card|^pan$|cc_?(num|no)|credit"),
    "date_of_birth": _name(
        r"^dob$|dob_|_dob$|date_?of_?birth|birth|^born|geburt|naissance|nacimiento|nascita|geboorte"
    ),
}
# Names of event dates: a column so named is never taken for a date of birth on its values alone.
EVENT_DATE_NAMES = _name(r"date|time|day|_at$|^at_|since|created|updated|order|purchase|invoice|join|sign")
# A date-of-birth column spans generations; a log's event dates span a few years.
BIRTH_YEARS_SPAN = 10
# Columns holding product or document codes: long digit strings there are not cards or IDs.
PRODUCT_CODE_NAMES = _name(
    r"sku|ean|upc|gtin|isbn|barcode|product|item|article|part_?(no|number)|order|invoice|serial"
)

EMAIL = re.compile(r"^[\w.+'-]+@[\w-]+(\.[\w-]+)+$")
PHONE = re.compile(r"^(\+|00|0|\()[\d\s().-]{7,22}$")
CARD_SHAPE = re.compile(r"^\d{4}([ -]?\d{2,4}){2,4}\d{0,3}$")
CARD_PREFIX = re.compile(r"^(4|5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720)|3[47]|6011|65|64[4-9]|35|36|30[0-5]|62)")
SSN = re.compile(r"^\d{3}-\d{2}-\d{4}$")
NINO = re.compile(r"^[A-CEGHJ-PR-TW-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]$", re.I)
PASSPORT = re.compile(r"^[A-Z]{1,2}\d{6,9}$", re.I)
SA_ID = re.compile(r"^\d{13}$")
STREET = re.compile(
    r"^\d+[a-z]?,?\s+([\w'.-]+\s+){1,5}(street|st|road|rd|avenue|ave|lane|ln|drive|dr|close|way|crescent|"
    r"boulevard|blvd|place|pl|court|ct|terrace|square|sq|highway|hwy)\b",
    re.I,
)
PERSON = re.compile(
    r"^[A-Z][a-z'’-]+(\s+((van|von|de|der|den|du|da|di|le|la|al|bin|ibn)\s+)?[A-Z][a-z'’.-]*){1,3}$"
)


@dataclass
class Finding:
    """A column that holds a direct identifier, as detected."""

    column: str
    kind: str
    matched: int
    checked: int
    by: str
    samples: list[str]
    suggested_action: str
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @property
    def share(self) -> float:
        return self.matched / self.checked if self.checked else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "label": self.label, "share": round(self.share, 4)}


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies."""
    if not digits.isdigit():
        return False
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def is_card(value: str) -> bool:
    if not CARD_SHAPE.match(value):
        return False
    digits = _digits(value)
    return 13 <= len(digits) <= 19 and bool(CARD_PREFIX.match(digits)) and luhn_valid(digits)


def is_phone(value: str) -> bool:
    return bool(PHONE.match(value)) and 9 <= len(_digits(value)) <= 15 and "." not in value.strip("().")


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _valid_sa_id(value: str) -> bool:
    if not SA_ID.match(value) or not luhn_valid(value):
        return False
    try:
        date(2000 + int(value[0:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        return False
    return True


def is_national_id(value: str) -> bool:
    return bool(SSN.match(value) or NINO.match(value)) or _valid_sa_id(value)


def is_person_name(value: str) -> bool:
    return bool(PERSON.match(value)) and value.split()[0].lower() in COMMON_FIRST_NAMES


def _looks_like_name(value: str) -> bool:
    return bool(PERSON.match(value)) or bool(re.match(r"^[A-Z][a-z'’-]+$", value))


def _is_birth_date(value: str) -> bool:
    return birth_date(value) is not None


# For each kind: the check on a value alone, and a looser one used when the name also matches.
VALUE_CHECKS: dict[str, tuple[Callable[[str], bool] | None, Callable[[str], bool]]] = {
    "email": (lambda v: bool(EMAIL.match(v)), lambda v: bool(EMAIL.match(v))),
    "phone": (is_phone, lambda v: 7 <= len(_digits(v)) <= 15),
    "person_name": (is_person_name, _looks_like_name),
    "street_address": (lambda v: bool(STREET.match(v)), lambda v: bool(re.search(r"\d", v) and " " in v)),
    "national_id": (is_national_id, lambda v: is_national_id(v) or bool(PASSPORT.match(v) or SA_ID.match(v))),
    "ip_address": (is_ip, is_ip),
    "payment_card": (is_card, is_card),
    "date_of_birth": (_is_birth_date, _is_birth_date),
}
# Share of a column's values that must pass: alone, or with a matching column name.
VALUE_SHARE, NAMED_SHARE = 0.8, 0.5


def detect(frame: pd.DataFrame, *, id_column: str | None = None) -> list[Finding]:
    """Every column that holds a direct identifier, with counts and masked samples.

    A column is reported once, under the kind with the strongest evidence.
    """
    findings = []
    sample = frame.head(SAMPLE_ROWS)
    for column in frame.columns:
        values = sample[column].dropna().astype(str).str.strip()
        values = values[values != ""]
        if values.empty:
            continue
        finding = _detect_column(str(column), values)
        if finding is None and is_free_text(values):
            finding = _free_text_finding(str(column), values)
        if finding is None:
            continue
        if str(column) == id_column:
            finding.suggested_action = "pseudonymise"
            finding.notes.append("this is the id column: it is replaced by a keyed pseudonym, not dropped")
        findings.append(finding)
    return findings


def _detect_column(column: str, values: pd.Series) -> Finding | None:
    normalised = re.sub(r"[^a-z0-9]+", "_", column.lower()).strip("_")
    product_code = bool(PRODUCT_CODE_NAMES.search(normalised))
    best: Finding | None = None
    for kind, (alone, named) in VALUE_CHECKS.items():
        name_hit = bool(NAME_HINTS[kind].search(normalised))
        if product_code and kind in ("payment_card", "national_id", "phone"):
            continue
        check = named if name_hit else alone
        if check is None or (
            kind == "date_of_birth" and not name_hit and EVENT_DATE_NAMES.search(normalised)
        ):
            continue
        hits = values[values.map(check)]
        share = len(hits) / len(values)
        if share < (NAMED_SHARE if name_hit else VALUE_SHARE):
            continue
        if kind == "date_of_birth" and not name_hit and _years_span(hits) < BIRTH_YEARS_SPAN:
            continue
        by = "name and values" if name_hit else "values"
        score = share + (1.0 if name_hit else 0.0)
        if best is None or score > best.share + (1.0 if "name" in best.by else 0.0):
            best = Finding(
                column=column,
                kind=kind,
                matched=len(hits),
                checked=len(values),
                by=by,
                samples=[mask_value(v, kind) for v in hits.drop_duplicates().head(3)],
                suggested_action="mask" if kind == "date_of_birth" else "drop",
            )
    return best


def _years_span(values: pd.Series) -> int:
    years = [d.year for d in map(typed_date, values) if d is not None]
    return max(years) - min(years) if years else 0


def _free_text_finding(column: str, values: pd.Series) -> Finding | None:
    matched, per_kind, samples = scan_free_text(values)
    if not enough_pii(matched, len(values)):
        return None
    found = ", ".join(
        f"{IN_TEXT_LABELS[k]} in {n}" for k, n in sorted(per_kind.items(), key=lambda kn: -kn[1])
    )
    return Finding(
        column=column,
        kind="free_text",
        matched=matched,
        checked=len(values),
        by="values inside the text",
        samples=samples,
        suggested_action="drop",
        notes=[
            f"free text with personal data: {found} of {len(values)} cells checked; "
            "drop it, or mask to replace each one with [e-mail], [phone], [address]"
        ],
    )


def mask_value(value: str, kind: str) -> str:
    """A value with enough hidden that it identifies no one, enough kept to recognise its kind."""
    value = str(value)
    if kind == "email" and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain[:1]}***{domain[domain.rfind('.') :]}"
    if kind == "date_of_birth":
        year = _birth_year(value)
        return f"{year}-**-**" if year is not None else "****"
    if kind in ("phone", "payment_card", "national_id"):
        digits_seen = 0
        masked = []
        total = len(_digits(value))
        for char in value:
            if char.isdigit():
                digits_seen += 1
                masked.append(char if digits_seen > total - 2 else "*")
            else:
                masked.append(char if not char.isalpha() else "*")
        return "".join(masked)
    if kind == "ip_address":
        return re.sub(r"[^.:]+", "*", value[: value.rfind(".")] if "." in value else value) + ".*"
    return " ".join(f"{w[:1]}{'*' * max(len(w) - 1, 2)}" for w in value.split())


def _mask_column(series: pd.Series, kind: str) -> pd.Series:
    if kind == "date_of_birth":
        # The year of birth stays useful (and is generalised as a quasi-identifier later).
        years = series.map(lambda v: None if pd.isna(v) else _birth_year(v))
        return years.astype("Int64").astype("string")
    if kind == "free_text":
        return series.map(redact)
    return series.map(lambda v: v if pd.isna(v) else mask_value(v, kind))


def _birth_year(value: object) -> int | None:
    if hasattr(value, "year"):  # a typed date from Parquet or XLSX
        return int(value.year)
    typed = typed_date(str(value))
    if typed is not None:
        return typed.year
    parsed = pd.to_datetime(str(value), errors="coerce")
    return None if pd.isna(parsed) else int(parsed.year)


def normalise_identifier(value: str) -> str:
    """The canonical form pseudonyms are computed over: trimmed, lower-case, phone digits only."""
    text = str(value).strip().lower()
    if is_phone(text):
        return "+" + _digits(text).lstrip("0") if text.startswith("+") else _digits(text)
    return text


def pseudonym(value: str, key: bytes) -> str:
    """A keyed HMAC-SHA256 pseudonym (hex): the same value and key always give the same one."""
    return hmac.new(key, normalise_identifier(value).encode(), hashlib.sha256).hexdigest()


def anonymise(frame: pd.DataFrame, decisions: Mapping[str, Mapping[str, str]], *, key: bytes) -> pd.DataFrame:
    """Apply ``{column: {"action": ..., "kind": ...}}`` decisions to a copy of the table."""
    result = frame.copy()
    for column, decision in decisions.items():
        action, kind = decision.get("action", "keep"), decision.get("kind", "")
        if column not in result.columns:
            raise SegmentationError(f"the table has no column '{column}' to {action}")
        if action not in ACTIONS:
            raise SegmentationError(f"'{action}' is not an action; choose one of {', '.join(ACTIONS)}")
        if action == "drop":
            result = result.drop(columns=[column])
        elif action == "mask":
            result[column] = _mask_column(result[column], kind)
        elif action == "pseudonymise":
            result[column] = result[column].map(lambda v: v if pd.isna(v) else pseudonym(v, key))
    return result
