"""Personal data written inside free text, and dates of birth in the forms people type them.

A ``notes`` or ``comments`` column is not an e-mail column, yet a call-centre note reads "rang
back on +44 20 7946 0958, new address 14 Elm Grove Road, mail jo.b@example.com". The column
checks of :mod:`segmentation.protection.pii` test whole cells; here each cell of a free-text
column is *searched* for e-mail addresses, phone numbers (international ``+44 …``/``0044 …``,
national ``020 …``, ``(011) …`` and North American ``555-123-4567``) and street addresses (a
house number, capitalised words, a street word). Patterns stay strict, because ordinary notes
hold amounts, order numbers and dates that a loose pattern would call phones.

Dates of birth are read in the forms a person types them (DD/MM/YYYY, YYYY-MM-DD, MM/DD/YYYY,
DD.MM.YYYY, "4 March 1985"), and taken for one only when the age they imply is a customer's age.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

IN_TEXT_LABELS = {"email": "e-mail addresses", "phone": "phone numbers", "street_address": "street addresses"}
IN_TEXT_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+"),
    "phone": re.compile(
        r"(?<![\w+/.-])(?:(?:\+|00)\d{1,3}[\s.-]?(?:\(0\))?[\s.-]?\d[\d\s().-]{5,17}\d"
        r"|(?:0|\(0?\d{1,4}\))[\d\s().-]{7,16}\d"
        r"|\d{3}[-.\s]\d{3}[-.\s]\d{4})(?![\w/-])"
    ),
    "street_address": re.compile(
        r"\b\d{1,5}[a-zA-Z]?,?\s+(?:[A-Z][\w'’.-]*\s+){1,4}"
        r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Way|Crescent|Boulevard|Blvd|Place|Pl|"
        r"Court|Ct|Terrace|Square|Sq|Highway|Hwy|Grove|Gardens|Mews|Row|Walk|Hill|Park)\b"
        r"|\b[A-Z][\wäöüß]*(?:straße|strasse|str\.|weg|gasse|allee|platz)\s+\d{1,4}[a-z]?\b"
    ),
}
PHONE_DIGITS = (9, 15)
REDACTED = {"email": "[e-mail]", "phone": "[phone]", "street_address": "[address]"}

# A column is free text when most of its cells are several words long.
FREE_TEXT_WORDS, FREE_TEXT_SHARE = 3, 0.5
# Cells with personal data a free-text column needs before it is reported: one stray match in
# a few thousand ordinary notes is a pattern's accident more often than a person.
FREE_TEXT_MIN_CELLS, FREE_TEXT_MIN_SHARE = 2, 0.01

BIRTH_FORMATS = (
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%Y/%m/%d",
    "%d %B %Y",
    "%d %b %Y",
)
# The ages a customer's date of birth implies; outside them the date is an event, not a birth.
BIRTH_AGES = (16, 110)


def is_free_text(values: pd.Series) -> bool:
    """Whether most filled cells are sentences rather than single values."""
    words = values.str.split().str.len()
    return bool((words >= FREE_TEXT_WORDS).mean() >= FREE_TEXT_SHARE)


def pii_spans(text: str) -> dict[str, list[str]]:
    """The e-mails, phones and street addresses found inside ``text``, by kind."""
    found: dict[str, list[str]] = {}
    for kind, pattern in IN_TEXT_PATTERNS.items():
        hits = [m.group(0).strip() for m in pattern.finditer(text)]
        if kind == "phone":
            hits = [h for h in hits if PHONE_DIGITS[0] <= len(re.sub(r"\D", "", h)) <= PHONE_DIGITS[1]]
        if hits:
            found[kind] = hits
    return found


def scan_free_text(values: pd.Series) -> tuple[int, dict[str, int], list[str]]:
    """``(cells with PII, {kind: cells}, samples)`` over a free-text column's filled cells."""
    per_kind: dict[str, int] = {}
    samples: list[str] = []
    matched = 0
    for text in values:
        spans = pii_spans(text)
        if not spans:
            continue
        matched += 1
        for kind, hits in spans.items():
            per_kind[kind] = per_kind.get(kind, 0) + 1
            if len(samples) < 3:
                samples.append(f"{IN_TEXT_LABELS[kind][:-1]}: {_masked(hits[0])}")
    return matched, per_kind, samples


def enough_pii(matched: int, checked: int) -> bool:
    return matched >= FREE_TEXT_MIN_CELLS and matched >= FREE_TEXT_MIN_SHARE * checked


def redact(text: object) -> object:
    """``text`` with every e-mail, phone and street address replaced by ``[e-mail]`` and so on."""
    if not isinstance(text, str):
        return text
    for kind, pattern in IN_TEXT_PATTERNS.items():
        if kind == "phone":
            text = pattern.sub(lambda m: _phone_redacted(m.group(0)), text)
        else:
            text = pattern.sub(REDACTED[kind], text)
    return text


def _phone_redacted(found: str) -> str:
    digits = len(re.sub(r"\D", "", found))
    return REDACTED["phone"] if PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1] else found


def _masked(value: str) -> str:
    return "".join("*" if c.isalnum() and i % 3 else c for i, c in enumerate(value))


def birth_date(value: str, *, today: dt.date | None = None) -> dt.date | None:
    """``value`` read as a date of birth, or None when no form reads it or the age it implies is
    not a customer's (under 16, over 110)."""
    born = typed_date(value)
    if born is None:
        return None
    age = ((today or dt.date.today()) - born).days / 365.25
    return born if BIRTH_AGES[0] <= age <= BIRTH_AGES[1] else None


def typed_date(value: str) -> dt.date | None:
    """``value`` read by the first of :data:`BIRTH_FORMATS` that reads it (day first before month
    first, the European convention; ``04/23/1985`` can only be month first), else None."""
    text = str(value).strip()
    for fmt in BIRTH_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None
