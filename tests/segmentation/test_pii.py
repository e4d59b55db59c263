"""Detecting direct identifiers, with the false positives real tables are full of."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd
import pytest

from segmentation.protection.pii import anonymise, detect, is_card, luhn_valid, pseudonym
from segmentation.synthetic.customers import customer_table

KEY = b"k" * 32


def kinds(frame: pd.DataFrame, id_column: str | None = None) -> dict[str, str]:
    return {f.column: f.kind for f in detect(frame, id_column=id_column)}


def test_it_finds_each_kind_of_direct_identifier_by_name_and_values():
    frame = pd.DataFrame(
        {
            "email": ["anna.smith@example.com", "b.jones@mail.co.za", "c.lee@x.org"],
            "mobile": ["+27 82 123 4567", "082 555 1234", "(011) 555-1234"],
            "full_name": ["Anna Smith", "Bongani Dlamini", "Peter van Wyk"],
            "address": ["12 Main Street", "5 Oak Avenue, Rosebank", "77b Long Rd"],
            "last_ip": ["192.168.1.20", "10.0.0.1", "2001:db8::1"],
            "card_number": ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005"],
            "dob": ["1980-01-02", "1975-12-31", "2001-07-04"],
            "id_number": ["8001015009087", "123-45-6789", "AB123456C"],
            "spend": ["12.5", "13", "14"],
        }
    )
    assert kinds(frame) == {
        "email": "email",
        "mobile": "phone",
        "full_name": "person_name",
        "address": "street_address",
        "last_ip": "ip_address",
        "card_number": "payment_card",
        "dob": "date_of_birth",
        "id_number": "national_id",
    }


def test_values_alone_reveal_identifiers_in_oddly_named_columns():
    frame = pd.DataFrame(
        {
            "contact": ["a@b.com", "c@d.org", "e@f.net", "g@h.io"],
            "c2": ["+44 20 7946 0958", "+27 21 555 0199", "+1 (415) 555-0100", "+61 2 9374 4000"],
            "field7": ["4111111111111111", "4012888888881881", "5555555555554444", "378282246310005"],
            "who": ["Mary Jones", "John Smith", "Sipho Nkosi", "Emma de Vries"],
            "x": ["10.1.2.3", "172.16.0.9", "8.8.8.8", "192.0.2.1"],
        }
    )
    assert kinds(frame) == {
        "contact": "email",
        "c2": "phone",
        "field7": "payment_card",
        "who": "person_name",
        "x": "ip_address",
    }


def test_luhn_matches_the_textbook_examples():
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert is_card("4111 1111 1111 1111")
    assert not is_card("4111 1111 1111 1112")  # Luhn fails
    assert not is_card("9111111111111111")  # Luhn passes, no card network starts with 9


def test_product_codes_are_not_card_numbers():
    rng = np.random.default_rng(0)
    # 16-digit product codes starting with 4 or 5: about one in ten passes Luhn by chance
    codes = [str(rng.integers(4 * 10**15, 6 * 10**15)) for _ in range(200)]
    # EAN-13 barcodes, and card-valid numbers in a column named as a SKU
    ean = ["4006381333931", "5012345678900", "4003994155486"] * 20
    sku = ["4111111111111111", "5500000000000004", "4012888888881881"] * 20
    frame = pd.DataFrame({"product_code": codes[:60], "ean": ean, "sku": sku, "code": codes[60:120]})
    assert kinds(frame) == {}


def test_ordinary_customer_data_flags_nothing():
    frame, _ = customer_table(500, seed=3)
    frame["order_total"] = ["1234567890.50"] * 500
    frame["loyalty_no"] = [f"{100000000 + i}" for i in range(500)]
    frame["region_name"] = frame["region"]
    frame["product_name"] = ["Blue Widget"] * 500
    assert kinds(frame, id_column="customer_id") == {}


def test_samples_are_masked():
    frame = pd.DataFrame({"email": ["anna.smith@example.com"] * 3, "phone": ["+27 82 123 4567"] * 3})
    findings = {f.column: f for f in detect(frame)}
    assert findings["email"].samples == ["a***@e***.com"]
    assert findings["phone"].samples == ["+** ** *** **67"]
    assert findings["email"].matched == 3


def test_an_email_id_column_is_suggested_for_pseudonymisation():
    frame = pd.DataFrame({"email": ["a@b.com", "c@d.com"], "spend": ["1", "2"]})
    (finding,) = detect(frame, id_column="email")
    assert finding.suggested_action == "pseudonymise"


def test_pseudonyms_are_keyed_hmac_sha256_of_the_normalised_value():
    expected = hmac.new(KEY, b"anna@example.com", hashlib.sha256).hexdigest()
    assert pseudonym(" Anna@Example.com ", KEY) == expected
    assert pseudonym("anna@example.com", b"other key" * 4) != expected
    assert pseudonym("+27 82 123 4567", KEY) == pseudonym("+27821234567", KEY)


def test_anonymise_drops_masks_and_pseudonymises():
    frame = pd.DataFrame(
        {
            "email": ["a@b.com", "c@d.com"],
            "name": ["Anna Smith", "John Lee"],
            "dob": ["1980-01-02", "1975-12-31"],
            "spend": ["1", "2"],
        }
    )
    result = anonymise(
        frame,
        {
            "email": {"action": "pseudonymise", "kind": "email"},
            "name": {"action": "drop", "kind": "person_name"},
            "dob": {"action": "mask", "kind": "date_of_birth"},
        },
        key=KEY,
    )
    assert list(result.columns) == ["email", "dob", "spend"]
    assert result["email"].tolist() == [pseudonym("a@b.com", KEY), pseudonym("c@d.com", KEY)]
    assert result["dob"].tolist() == ["1980", "1975"]
    assert frame["email"].iloc[0] == "a@b.com"  # the input is untouched


@pytest.mark.parametrize("action", ["explode", ""])
def test_anonymise_refuses_an_unknown_action(action):
    from segmentation import SegmentationError

    with pytest.raises(SegmentationError, match="not an action"):
        anonymise(pd.DataFrame({"a": ["1"]}), {"a": {"action": action}}, key=KEY)


NOTES_WITH_PII = [
    "Rang back on +44 20 7946 0958 about the late parcel",
    "New address: 14 Elm Grove Road, Leeds; wants paper invoices",
    "Asked us to write to jo.bloggs@example.co.uk instead of the old address",
    "Call her on 082 555 1234 after 5pm, prefers WhatsApp",
    "US office, reach him at 415-555-0199 before noon",
    "Moved to Hauptstraße 12, Berlin last spring",
]
ORDINARY_NOTES = [
    "Prefers delivery after 5pm on weekdays",
    "Asked about the 20% discount on order 4471",
    "Complained about late parcel, refunded 12.50 on 03/04/2024",
    "Bought 3 boxes of the Big Road Atlas for the shop",
    "Loyal since 2015, upgraded to gold tier in 2021",
    "Returned 2 items: wrong size, colour as shown",
    "Wants the catalogue by post, not e-mail",
    "Account reviewed on 2024-11-02, no action needed",
]


def notes_table(notes: list[str], n: int = 200, *, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "spend": rng.gamma(2.0, 50.0, n).round(2).astype(str),
            "notes": rng.choice(notes, size=n),
        }
    )


def test_personal_data_inside_a_notes_column_is_found_and_masking_redacts_it():
    mixed = ORDINARY_NOTES * 3 + NOTES_WITH_PII  # about one note in five holds personal data
    frame = notes_table(mixed)

    (finding,) = detect(frame, id_column="customer_id")
    clean = anonymise(frame, {"notes": {"action": "mask", "kind": "free_text"}}, key=KEY)

    assert (finding.column, finding.kind, finding.suggested_action) == ("notes", "free_text", "drop")
    expected = frame["notes"].isin(NOTES_WITH_PII).sum()
    assert finding.matched == expected
    assert all(word in finding.notes[0] for word in ("e-mail addresses", "phone numbers", "street addresses"))
    text = " ".join(clean["notes"])
    assert "jo.bloggs@example.co.uk" not in text and "7946 0958" not in text and "Elm Grove Road" not in text
    assert "415-555-0199" not in text and "Hauptstraße 12" not in text
    assert "[e-mail]" in text and "[phone]" in text and "[address]" in text
    assert "refunded 12.50 on 03/04/2024" in text  # ordinary figures are left alone


def test_ordinary_notes_with_amounts_dates_and_order_numbers_are_not_flagged():
    assert detect(notes_table(ORDINARY_NOTES), id_column="customer_id") == []


def test_a_birth_column_in_day_first_dates_is_a_date_of_birth_and_masks_to_the_year():
    rng = np.random.default_rng(1)
    born = pd.to_datetime("1940-01-01") + pd.to_timedelta(rng.integers(0, 60 * 365, 300), unit="D")
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(300)],
            "birth": born.strftime("%d/%m/%Y"),
            "geburtsdatum": born.strftime("%d %B %Y"),
            "col7": born.strftime("%Y-%m-%d"),  # no telling name: found by its values alone
            "last_order": pd.Timestamp("2025-03-01").strftime("%m/%d/%Y"),
            "signup": (
                pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 900, 300), unit="D")
            ).strftime("%d/%m/%Y"),
        }
    )

    found = kinds(frame, id_column="customer_id")
    clean = anonymise(frame, {"birth": {"action": "mask", "kind": "date_of_birth"}}, key=KEY)

    assert found == {"birth": "date_of_birth", "geburtsdatum": "date_of_birth", "col7": "date_of_birth"}
    assert clean["birth"].tolist() == [str(d.year) for d in born]
