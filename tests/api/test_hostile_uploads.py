"""Hostile uploads are refused with a clear 400 before they are parsed, and nothing is kept.

The files are written here as real zip archives: a sheet that inflates far past its size, XML
that declares entities ("billion laughs"), and a sheet with more rows than Excel can hold.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from projects.models import Dataset

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"></Types>'
)
SHEET_HEAD = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://x"><sheetData>'
SHEET_TAIL = b"</sheetData></worksheet>"


def workbook(rows: int, *, shared_strings: str | None = None) -> bytes:
    """An XLSX archive whose first sheet has ``rows`` rows of two cells, streamed into the zip."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        if shared_strings is not None:
            archive.writestr("xl/sharedStrings.xml", shared_strings)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(SHEET_HEAD)
            row = b"<row><c><v>7</v></c><c><v>1.5</v></c></row>"  # cell references are optional
            for _ in range(rows // 10_000):
                sheet.write(row * 10_000)
            sheet.write(row * (rows % 10_000))
            sheet.write(SHEET_TAIL)
    return out.getvalue()


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def tabbed_workbook(sheets: list[tuple[str, int]], *, workbook_prolog: str = "") -> bytes:
    """A complete XLSX (openpyxl reads it) whose sheets, in tab order, are the named parts with
    ``rows`` customers each; ``workbook_prolog`` goes between xl/workbook.xml's declaration and root."""
    out = io.BytesIO()
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/{part}" ContentType="{WORKSHEET_TYPE}"/>' for part, _ in sheets
    )
    tabs = "".join(f'<sheet name="Tab {i}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i in range(len(sheets)))
    rels = "".join(
        f'<Relationship Id="rId{i + 1}" Type="{OFFICE_RELS}/worksheet" Target="worksheets/{part}"/>'
        for i, (part, _) in enumerate(sheets)
    )
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            CONTENT_TYPES.replace(
                "></Types>",
                '><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                f"{overrides}</Types>",
            ),
        )
        archive.writestr(
            "_rels/.rels",
            f'<?xml version="1.0"?><Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
            f'Type="{OFFICE_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?>{workbook_prolog}<workbook xmlns="{MAIN}" '
            f'xmlns:r="{OFFICE_RELS}"><sheets>{tabs}</sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0"?><Relationships xmlns="{PACKAGE_RELS}">{rels}</Relationships>',
        )
        for part, rows in sheets:
            header = (
                '<row r="1"><c r="A1" t="inlineStr"><is><t>customer_id</t></is></c>'
                '<c r="B1" t="inlineStr"><is><t>spend</t></is></c></row>'
            )
            body = "".join(
                f'<row r="{i}"><c r="A{i}"><v>{i}</v></c><c r="B{i}"><v>{i * 1.5}</v></c></row>'
                for i in range(2, rows + 2)
            )
            head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'
            archive.writestr(f"xl/worksheets/{part}", (head + header + body).encode() + SHEET_TAIL)
    return out.getvalue()


def upload(api, user, project, name: str, raw: bytes):  # type: ignore[no-untyped-def]
    return api(user).post(
        "/api/v1/datasets/",
        {"project": project.pk, "file": SimpleUploadedFile(name, raw)},
        format="multipart",
    )


def refused(response, *words: str) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.content
    message = response.json()["error"]["message"] + " ".join(
        m for ms in response.json()["error"]["fields"].values() for m in ms
    )
    for word in words:
        assert word in message
    return message


@pytest.mark.django_db
def test_a_sheet_with_more_rows_than_excel_holds_is_refused_unparsed(project, consultant, api):
    raw = workbook(1_048_577)
    assert len(raw) < 1024 * 1024  # under a megabyte that claims more than a sheet can hold
    refused(upload(api, consultant, project, "big.xlsx", raw), "more than 1,048,576 rows", "split it")
    assert not Dataset.objects.filter(project=project).exists()


@pytest.mark.django_db
@override_settings(MAX_UPLOAD_INFLATED_BYTES=20 * 1024 * 1024)
def test_a_sheet_that_inflates_past_the_limit_is_refused_from_the_zip_directory(project, consultant, api):
    raw = workbook(600_000)  # about 26 MB of XML in a few hundred KB
    assert len(raw) < 1024 * 1024
    refused(upload(api, consultant, project, "bomb.xlsx", raw), "would inflate to", "20,971,520", "CSV")
    assert not Dataset.objects.filter(project=project).exists()


@pytest.mark.django_db
@override_settings(MAX_UPLOAD_ROWS=1_000)
def test_the_row_limit_is_a_setting_and_names_itself(project, consultant, api):
    refused(upload(api, consultant, project, "rows.xlsx", workbook(1_500)), "more than 1,000 rows")


@pytest.mark.django_db
def test_xml_entities_are_refused_before_any_expansion(project, consultant, api):
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{"&lol" + str(i - 1) + ";" if i > 1 else "&lol;"}' * 10 + '">'
            for i in range(1, 10)
        )
        + ']><sst xmlns="http://x"><si><t>&lol9;</t></si></sst>'
    )
    raw = workbook(10, shared_strings=laughs)
    refused(upload(api, consultant, project, "laughs.xlsx", raw), "declares XML entities")
    assert not Dataset.objects.filter(project=project).exists()


@pytest.mark.django_db
@override_settings(MAX_UPLOAD_ROWS=100)
def test_the_sheet_counted_is_the_first_in_tab_order_whatever_its_part_is_named(project, consultant, api):
    import pandas as pd

    # The first tab is stored as sheet2.xml: it is the one pandas reads, so it is the one counted.
    raw = tabbed_workbook([("sheet2.xml", 150), ("sheet1.xml", 5)])
    assert len(pd.read_excel(io.BytesIO(raw), sheet_name=0)) == 150  # the reference reader agrees
    refused(upload(api, consultant, project, "tabs.xlsx", raw), "more than 100 rows")
    assert not Dataset.objects.filter(project=project).exists()


@pytest.mark.django_db
@override_settings(MAX_UPLOAD_ROWS=100)
def test_a_later_tab_past_the_limit_does_not_refuse_the_first_one(project, consultant, api):
    import pandas as pd

    raw = tabbed_workbook([("sheet2.xml", 40), ("sheet1.xml", 150)])
    response = upload(api, consultant, project, "tabs.xlsx", raw)
    assert response.status_code == 201, response.content
    assert response.json()["row_count"] == len(pd.read_excel(io.BytesIO(raw), sheet_name=0)) == 40


@pytest.mark.django_db
def test_an_entity_declared_after_ten_kilobytes_of_comment_is_still_refused(project, consultant, api):
    padding = "<!--" + "x" * 10_000 + "-->" + " \n" * 3_000
    raw = tabbed_workbook([("sheet1.xml", 5)], workbook_prolog=padding + '<!DOCTYPE w [<!ENTITY e "e">]>')
    refused(upload(api, consultant, project, "late.xlsx", raw), "declares XML entities")
    assert not Dataset.objects.filter(project=project).exists()


@pytest.mark.django_db
def test_a_json_body_over_the_limit_is_a_413_in_the_api_error_format(consultant, api):
    body = json.dumps({"name": "x" * (11 * 1024 * 1024)})
    response = api(consultant).post("/api/v1/projects/", body, content_type="application/json")
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large" and "10 MB" in error["message"]


@pytest.mark.django_db
@override_settings(DATASET_INLINE_CHECK_BYTES=200 * 1024 * 1024)  # read in the request, as it is held
def test_a_large_upload_never_rests_in_clear_in_a_temporary_file(project, consultant, api, monkeypatch):
    from pathlib import Path

    from django.conf import settings

    from runs import datasets as services
    from tests.projects.helpers import upload_csv

    raw, _ = upload_csv(350_000, seed=3)
    assert len(raw) > 10 * 1024 * 1024  # past the size Django would spool to disk
    seen: dict[str, object] = {}
    read_input = services.read_input

    def watching(content, **kwargs):  # type: ignore[no-untyped-def]
        # while the request holds the upload, nothing of it lies in a temporary directory
        seen["temporary"] = sorted(Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir())
        seen["in_clear"] = any(
            raw[:4096] in p.read_bytes()[: 1 << 20]
            for p in Path(settings.FILE_UPLOAD_TEMP_DIR).rglob("*")
            if p.is_file()
        )
        return read_input(content, **kwargs)

    monkeypatch.setattr(services, "read_input", watching)
    response = upload(api, consultant, project, "customers.csv", raw)
    assert response.status_code == 201, response.content
    assert seen == {"temporary": [], "in_clear": False}
    stored = Dataset.objects.get(project=project)
    with stored.file.open("rb") as handle:
        assert handle.read() == raw
    assert raw[:64] not in Path(stored.file.path).read_bytes()  # encrypted at rest


@pytest.mark.django_db
@override_settings(MAX_UPLOAD_BYTES=1024 * 1024)
def test_an_upload_past_the_size_limit_is_refused_by_name(project, consultant, api):
    from tests.projects.helpers import upload_csv

    raw, _ = upload_csv(40_000, seed=3)
    assert len(raw) > 1024 * 1024
    refused(upload(api, consultant, project, "customers.csv", raw), "larger than the 1 MB limit", "Parquet")
    assert not Dataset.objects.filter(project=project).exists()


@pytest.mark.django_db(transaction=True)
def test_a_database_failure_mid_upload_leaves_no_file_and_no_row(project, consultant, api, monkeypatch):
    from pathlib import Path

    from django.conf import settings
    from django.db import OperationalError

    from runs import datasets as services
    from tests.projects.helpers import upload_csv

    media = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    before = {p for p in media.rglob("*") if p.is_file()}

    def database_gone(**kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("server closed the connection unexpectedly")

    # the connection drops after the file is written and the row inserted, before the commit
    monkeypatch.setattr(services, "audit_record", database_gone)
    with pytest.raises(OperationalError):
        services.dataset_upload(
            project=project, name="customers.csv", content=upload_csv(200)[0], id_column=None, user=consultant
        )
    assert not Dataset.objects.filter(project=project).exists()
    assert {p for p in media.rglob("*") if p.is_file()} == before
