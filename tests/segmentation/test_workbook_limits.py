"""check_workbook reads a part as an XML parser would: its encoding hides no tag or entity."""

from __future__ import annotations

import io
import zipfile

import pytest

from segmentation import SegmentationError
from segmentation.data.limits import InputLimits, check_workbook

HEAD = '<?xml version="1.0" encoding="UTF-16"?><worksheet xmlns="http://x"><sheetData>'
TAIL = "</sheetData></worksheet>"


def archive_of(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_sheet_written_in_utf16_is_counted_like_one_in_utf8():
    sheet = HEAD + "<row><c><v>1</v></c></row>" * 500 + TAIL
    raw = archive_of({"xl/worksheets/sheet1.xml": sheet.encode("utf-16")})
    with pytest.raises(SegmentationError, match="more than 100 rows"):
        check_workbook(raw, InputLimits(rows=100), label="'u.xlsx'")


def test_an_entity_declared_in_utf16_is_refused():
    part = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE s [<!ENTITY e "e">]><sst/>'
    raw = archive_of({"xl/sharedStrings.xml": part.encode("utf-16-le")})  # no byte order mark
    with pytest.raises(SegmentationError, match="declares XML entities"):
        check_workbook(raw, InputLimits(), label="'u.xlsx'")


def test_a_part_of_any_name_is_checked_for_entities():
    raw = archive_of({"xl/worksheets/data.bin": b'<!DOCTYPE s [<!ENTITY e "e">]><worksheet/>'})
    with pytest.raises(SegmentationError, match="declares XML entities"):
        check_workbook(raw, InputLimits(), label="'u.xlsx'")


def test_an_image_part_passes_the_entity_check_at_its_first_byte():
    raw = archive_of({"xl/media/image1.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 100})
    check_workbook(raw, InputLimits(), label="'u.xlsx'")
