"""The input corpus: what people really paste, read into DomainEntry rows or row-numbered issues."""

from __future__ import annotations

import codecs

import openpyxl
import pytest

from dnsaudit.domains import DomainError, normalise_domain
from dnsaudit.inputs import InputError, read_input
from dnsaudit.model import Cloud, Phase


def write(tmp_path, data: bytes | str, name: str = "domains.csv"):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def domains(result) -> list[str]:
    return [e.domain for e in result.entries]


# -- encodings, delimiters, line ends ----------------------------------------------------

TEXT = "domain,client\r\ncontoso.com,Contoso\r\nbücher.example,Bücher GmbH\r\n"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),  # with BOM, as Excel's "Unicode text"
        TEXT.encode("utf-16-le"),  # without BOM
        TEXT.encode("utf-16-be"),
        TEXT.encode("cp1252"),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "utf16le", "utf16be", "cp1252"],
)
def test_encodings(tmp_path, data):
    result = read_input(write(tmp_path, data))
    assert domains(result) == ["contoso.com", "xn--bcher-kva.example"]
    assert result.entries[1].display_name == "bücher.example"
    assert result.entries[1].client == "Bücher GmbH"
    assert result.issues == []


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters(tmp_path, delimiter):
    text = f"domain{delimiter}relay_ips{delimiter}client\ncontoso.com{delimiter}203.0.113.5 2001:db8::1{delimiter}A, B\n"
    if delimiter == ",":
        text = text.replace("A, B", '"A, B"')
    result = read_input(write(tmp_path, text))
    entry = result.entries[0]
    assert entry.relay_ips == ("203.0.113.5", "2001:db8::1")
    assert entry.client == "A, B"


def test_powershell_export_of_accepted_domains(tmp_path):
    text = (
        "#TYPE Microsoft.Exchange.Data.Directory.SystemConfiguration.AcceptedDomain\r\n"
        '"DomainName","DomainType","Default","Name"\r\n'
        '"contoso.com","Authoritative","True","contoso.com"\r\n'
        '"contoso.onmicrosoft.com","Authoritative","False","contoso.onmicrosoft.com"\r\n'
    )
    result = read_input(write(tmp_path, text))
    assert domains(result) == ["contoso.com", "contoso.onmicrosoft.com"]
    assert result.columns["domain"] == "DomainName"
    assert dict(result.entries[0].extra) == {"DomainType": "Authoritative", "Default": "True", "Name": "contoso.com"}
    assert [i.level for i in result.issues] == ["warning"]  # the unused columns, named once
    assert "DomainType" in result.issues[0].message and result.issues[0].row == 2


@pytest.mark.parametrize("header", ["Domain", "DOMAIN", "Domain Name", "domain_name", "DomainName"])
def test_header_aliases(tmp_path, header):
    assert domains(read_input(write(tmp_path, f"{header}\ncontoso.com\n"))) == ["contoso.com"]


def test_headerless_single_column_with_comments_and_blanks(tmp_path):
    text = "# my list\n\ncontoso.com\n  FABRIKAM.COM.  \n\n# done\nnorthwind.example\n"
    result = read_input(write(tmp_path, text))
    assert domains(result) == ["contoso.com", "fabrikam.com", "northwind.example"]
    assert [e.row for e in result.entries] == [3, 4, 7]


def test_xlsx_input(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active.append(["nothing here"])
    sheet = book.create_sheet("Domains")
    sheet.append(["Domain Name", "Client", "Phase"])
    sheet.append(["contoso.com", "Contoso", "Hybrid"])
    sheet.append([None, None, None])
    sheet.append(["not a domain!", "X", ""])
    path = tmp_path / "list.xlsx"
    book.save(path)
    result = read_input(path, sheet="Domains")
    assert domains(result) == ["contoso.com"]
    assert result.entries[0].phase is Phase.HYBRID
    assert [(i.row, i.level) for i in result.issues] == [(4, "error")]
    with pytest.raises(InputError, match="no sheet 'Nope'"):
        read_input(path, sheet="Nope")


def test_sheet_name_is_matched_without_regard_to_case(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.create_sheet("Client Domains").append(["domain"])
    book["Client Domains"].append(["contoso.com"])
    path = tmp_path / "list.xlsx"
    book.save(path)
    result = read_input(path, sheet="client DOMAINS")
    assert domains(result) == ["contoso.com"] and result.issues == []


def test_domains_on_another_sheet_are_found_and_the_sheet_named(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Summary"
    book.active.append(["ACME MSP", "42 domains"])
    book.create_sheet("Chart data").append(["month", "count"])
    book.create_sheet("Domains").append(["Domain", "Client"])
    book["Domains"].append(["contoso.com", "Contoso"])
    path = tmp_path / "inventory.xlsx"
    book.save(path)
    result = read_input(path)
    assert domains(result) == ["contoso.com"] and result.entries[0].client == "Contoso"
    (issue,) = result.issues
    assert issue.level == "warning"
    assert "first sheet 'Summary' has no domain column" in issue.message and "'Domains'" in issue.message
    assert "--sheet" in issue.message


def test_several_sheets_with_domains_name_them_and_suggest_sheet(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Summary"
    book.active.append(["ACME MSP"])
    for name in ("Contoso", "Fabrikam"):
        book.create_sheet(name).append(["domain"])
        book[name].append([f"{name.lower()}.com"])
    path = tmp_path / "inventory.xlsx"
    book.save(path)
    with pytest.raises(InputError) as caught:
        read_input(path)
    message = str(caught.value)
    assert "'Summary'" in message and "'Contoso', 'Fabrikam'" in message and "--sheet" in message
    assert domains(read_input(path, sheet="fabrikam")) == ["fabrikam.com"]


def test_first_sheet_with_a_domain_column_is_used_as_before(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["domain"])
    book.active.append(["contoso.com"])
    book.create_sheet("Other").append(["domain"])
    book["Other"].append(["fabrikam.com"])
    path = tmp_path / "list.xlsx"
    book.save(path)
    result = read_input(path)
    assert domains(result) == ["contoso.com"] and result.issues == []


def _with_saved_values(path, values: dict[str, str]) -> None:
    """Give formula cells the saved value Excel writes next to the formula: <c t="str"><f>..</f><v>..</v></c>."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    for ref, value in values.items():
        xml, count = re.subn(rf'<c r="{ref}"><f>(.*?)</f><v ?/>', rf'<c r="{ref}" t="str"><f>\1</f><v>{value}</v>', xml)
        assert count == 1, ref
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_formula_cells_are_read_by_their_saved_values(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["domain", "client", "notes"])
    book.active.append(['=LOWER("CONTOSO.COM")', "=VLOOKUP(A2,Clients!A:B,2,0)", "plain"])
    book.active.append(["fabrikam.com", "Fabrikam", '=CONCAT("a","b")'])
    path = tmp_path / "formulas.xlsx"
    book.save(path)
    _with_saved_values(path, {"A2": "contoso.com", "B2": "Contoso", "C3": "ab"})
    result = read_input(path)
    assert domains(result) == ["contoso.com", "fabrikam.com"]
    assert [e.client for e in result.entries] == ["Contoso", "Fabrikam"]
    assert result.entries[1].notes == "ab"
    assert result.issues == []


def test_formula_cells_without_saved_values_are_reported_with_their_row(tmp_path):
    book = openpyxl.Workbook()  # openpyxl, like any script, writes formulas without a saved value
    book.active.append(["domain", "client", "owner"])
    book.active.append(["contoso.com", "=VLOOKUP(A2,Clients!A:B,2,0)", ""])  # 2: the client unknown
    book.active.append(['=LOWER("FABRIKAM.COM")', None, None])  # 3: looks blank, is not
    book.active.append(["northwind.example", "Northwind", "=B4"])  # 4: an unused column
    path = tmp_path / "formulas.xlsx"
    book.save(path)
    result = read_input(path)
    assert domains(result) == ["northwind.example"]
    by_row = {i.row: i for i in result.issues}
    assert by_row[2].level == "error" and "client cell is a formula (=VLOOKUP(A2,Clients!A:B,2,0))" in by_row[2].message
    assert "no saved value; row not audited" in by_row[2].message
    assert by_row[3].level == "error" and "domain cell is a formula" in by_row[3].message
    assert by_row[4].level == "warning" and "owner cell is a formula (=B4)" in by_row[4].message
    assert result.entries[0].extra == ()


def test_xlsx_named_csv_is_read_as_xlsx(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["domain"])
    book.active.append(["contoso.com"])
    path = tmp_path / "exported.csv"
    book.save(path)
    assert domains(read_input(path)) == ["contoso.com"]


# -- how spreadsheets export: sep= line, title rows, huge cells ---------------------------


@pytest.mark.parametrize("hint", ["sep=;", "SEP=;", '"sep=;"'])
def test_excel_sep_line_names_the_delimiter(tmp_path, hint):
    text = f"{hint}\r\ndomain;client;relay_ips\r\ncontoso.com;Contoso, Inc.;203.0.113.5\r\n"
    result = read_input(write(tmp_path, codecs.BOM_UTF8 + text.encode()))
    assert domains(result) == ["contoso.com"]
    assert result.entries[0].client == "Contoso, Inc." and result.entries[0].relay_ips == ("203.0.113.5",)
    assert result.entries[0].row == 3 and result.issues == []
    assert result.columns["domain"] == "domain"


def test_sep_line_with_a_tab(tmp_path):
    result = read_input(write(tmp_path, "sep=\t\ndomain\tclient\ncontoso.com\tA;B,C\n"))
    assert result.entries[0].client == "A;B,C"


def test_a_cell_over_the_cap_costs_its_row_only(tmp_path):
    big = "x" * (10 * 1024 * 1024 + 1)
    text = (
        "domain,notes\n"
        "a.example," + "y" * 200_000 + "\n"  # 2: over csv's default 128 KiB, under the cap: read
        "b.example," + big + "\n"  # 3: one line, over the cap
        "c.example,fine\n"  # 4
        'd.example,"first line\n' + big + '\nlast line"\n'  # 5-7: a quoted cell over three lines
        "e.example,fine\n"  # 8
    )
    result = read_input(write(tmp_path, text))
    assert domains(result) == ["a.example", "c.example", "e.example"]
    assert [e.row for e in result.entries] == [2, 4, 8]
    assert [(i.row, i.level) for i in result.issues] == [(3, "error"), (5, "error")]
    assert result.issues[0].message == "a cell is larger than 10 MiB; row not audited"
    assert result.issues[1].message == "a cell is larger than 10 MiB (lines 5-7: a quote left open?); row not audited"


def test_title_rows_above_the_header(tmp_path):
    text = (
        "ACME MSP \u2013 client domain inventory,,\n"  # 1
        ",,\n"  # 2
        "Exported 2026-11-30 by j.doe,,\n"  # 3
        "Client,Domain Name,Relay IPs\n"  # 4
        "Contoso,contoso.com,203.0.113.5\n"  # 5
    )
    result = read_input(write(tmp_path, text))
    assert domains(result) == ["contoso.com"]
    assert result.entries[0].client == "Contoso" and result.entries[0].row == 5
    (issue,) = result.issues
    assert (issue.row, issue.level) == (4, "warning")
    assert issue.message.startswith("header taken from row 4, the first with a domain column; rows 1-3 above it")
    assert "ACME MSP" in issue.message


def test_the_header_is_searched_in_the_first_ten_rows_only(tmp_path):
    titles = "".join(f"title {n}\n" for n in range(1, 11))
    with pytest.raises(InputError, match="no domain column in the header on row 1"):
        read_input(write(tmp_path, titles + "domain\ncontoso.com\n"))
    result = read_input(write(tmp_path, titles[: titles.index("title 10")] + "domain\ncontoso.com\n"))
    assert domains(result) == ["contoso.com"] and result.issues[0].row == 10


# -- what people paste in place of a domain -----------------------------------------------


def test_urls_and_addresses_are_normalised_with_a_warning(tmp_path):
    text = "domain\nhttps://www.contoso.com/owa\nadmin@Fabrikam.com\nmailto:x@northwind.example\n"
    result = read_input(write(tmp_path, text))
    assert domains(result) == ["contoso.com", "fabrikam.com", "northwind.example"]
    assert [(i.row, i.level) for i in result.issues] == [(2, "warning"), (3, "warning"), (4, "warning")]
    assert "registrable domain 'contoso.com'" in result.issues[0].message
    assert "'www.contoso.com'" in result.issues[0].message


def test_a_url_is_reduced_to_its_registrable_domain_and_merged(tmp_path):
    text = (
        "domain,client\n"
        "contoso.com,Contoso\n"  # 2
        "https://www.contoso.com/login,\n"  # 3: the same domain, from a browser's address bar
        "https://login.fabrikam.co.uk/?x=1,Fabrikam\n"  # 4: a two-label public suffix
        "www.northwind.example/owa,\n"  # 5: no scheme, but a path: still a URL
        "https://contoso.onmicrosoft.com/,\n"  # 6: a tenant is a domain of its own
        "mail.tailspin.example,\n"  # 7: a host name without a URL is kept as written
        "it@sales.adatum.example,\n"  # 8: an address keeps its whole mail domain
    )
    result = read_input(write(tmp_path, text))
    assert domains(result) == ["contoso.com", "fabrikam.co.uk", "northwind.example", "contoso.onmicrosoft.com",
                               "mail.tailspin.example", "sales.adatum.example"]
    assert result.entries[0].merged_rows == (3,)
    messages = [(i.row, i.message) for i in result.issues]
    assert (3, "a URL was given; using its registrable domain 'contoso.com' (the host is 'www.contoso.com')") \
        in messages
    assert any(row == 3 and "duplicate of row 2" in message for row, message in messages)
    assert {row for row, _ in messages} == {3, 4, 5, 6, 8}


def test_duplicates_are_merged_with_a_warning(tmp_path):
    text = (
        "domain,relay_ips,client,cloud\n"
        "contoso.com,203.0.113.1,Contoso,\n"
        "CONTOSO.COM.,203.0.113.2;203.0.113.1,Other,china\n"
    )
    result = read_input(write(tmp_path, text))
    assert len(result.entries) == 1
    entry = result.entries[0]
    assert entry.relay_ips == ("203.0.113.1", "203.0.113.2")
    assert entry.client == "Contoso" and entry.cloud is Cloud.WORLDWIDE
    assert entry.merged_rows == (3,)
    (issue,) = result.issues
    assert issue.row == 3 and "duplicate of row 2" in issue.message and "china" in issue.message


def test_every_kind_of_bad_row_is_reported_and_the_rest_goes_on(tmp_path):
    text = (
        "domain,relay_ips,cloud,phase,tenant,relay_cert_host\n"
        "good.example,,,,,\n"  # 2
        ",,,,,\n"  # 3 blank: skipped silently, nothing to report
        "not a domain,,,,,\n"  # 4
        "192.0.2.1,,,,,\n"  # 5
        "*.wild.example,,,,,\n"  # 6
        "localhost,,,,,\n"  # 7
        "bad_label.example,,,,,\n"  # 8
        "cloudy.example,,mars,,,\n"  # 9
        "phased.example,,,someday,,\n"  # 10
        "ips.example,203.0.113.9;999.1.1.1;10.0.0.0/8,,,,\n"  # 11
        "tenant.example,,,,contoso,\n"  # 12
        "cert.example,,,,,relay.cert.example:99999\n"  # 13
         "long.example" + "a" * 250 + ",,,,,\n"  # 14
        ",203.0.113.1,,,,\n"  # 15: values but no domain
    )
    result = read_input(write(tmp_path, text))
    assert domains(result) == ["good.example", "ips.example", "tenant.example", "cert.example"]
    errors = {(i.row, i.level) for i in result.issues}
    for row in (4, 5, 6, 7, 8, 9, 10, 13, 14, 15):
        assert (row, "error") in errors, row
    assert [i.value for i in result.issues if i.row == 11] == ["999.1.1.1", "10.0.0.0/8"]
    assert result.entries[1].relay_ips == ("203.0.113.9",)
    assert result.entries[2].tenant == "contoso.onmicrosoft.com"
    assert (12, "warning") in errors
    assert all(i.row for i in result.issues)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("client,notes\nContoso,x\n", "no domain column"),
        ("", "holds no domains"),
        ("# only a comment\n\n", "holds no domains"),
    ],
)
def test_unusable_files_raise_one_clear_error(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        read_input(write(tmp_path, text))


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_input(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="folder"):
        read_input(tmp_path)
    with pytest.raises(InputError, match=r"old binary Excel \(\.xls\) file"):
        read_input(write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls"))


def _zip(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


RANDOM = bytes((i * 7919 + 13) % 256 for i in range(4096))  # every byte value, NULs on both sides of a pair


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + RANDOM, "it looks like a PNG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n" + RANDOM.replace(b"\x00", b""), "it looks like a PDF document"),
        (b"\xff\xd8\xff\xe0" + RANDOM, "it looks like a JPEG image"),
        (_zip({"notes.txt": b"domain\ncontoso.com\n"}), "it looks like a zip archive"),
        (_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}), "it looks like a Word document"),
        (RANDOM, "it holds binary data"),  # no known signature; would decode as UTF-16 nonsense
        (RANDOM.replace(b"\x00", b""), "it holds binary data"),  # no NUL at all; would decode as cp1252
        (bytes(range(256)) * 16, "it holds binary data"),
    ],
    ids=["png", "pdf", "jpeg", "zip", "docx", "random", "random-no-nul", "all-bytes"],
)
def test_files_that_are_neither_text_nor_a_workbook(tmp_path, data, looks_like):
    path = write(tmp_path, data, "domains.csv")
    with pytest.raises(InputError) as caught:
        read_input(path)
    assert str(caught.value) == f"{path} is not a CSV or Excel file ({looks_like})"


def test_an_opendocument_spreadsheet_is_named(tmp_path):
    data = _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"})
    with pytest.raises(InputError, match=r"is an OpenDocument spreadsheet; save it as \.xlsx or CSV"):
        read_input(write(tmp_path, data, "list.ods"))


def test_cloud_and_phase_spellings(tmp_path):
    text = "domain,cloud,phase\na.example,GCC High,Pre-Migration\nb.example,21Vianet,Hybrid\nc.example,GCC,\n"
    entries = read_input(write(tmp_path, text)).entries
    assert [(e.cloud, e.phase) for e in entries] == [
        (Cloud.GCC_HIGH, Phase.PRE_MIGRATION),
        (Cloud.CHINA, Phase.HYBRID),
        (Cloud.WORLDWIDE, Phase.CLOUD),
    ]


@pytest.mark.parametrize(
    ("raw", "ascii_name", "unicode_name"),
    [
        ("Contoso.COM.", "contoso.com", "contoso.com"),
        ("  münchen.de ", "xn--mnchen-3ya.de", "münchen.de"),
        ("FAß.de", "xn--fa-hia.de", "faß.de"),  # UTS 46 nontransitional, as browsers do
        ("xn--bcher-kva.example", "xn--bcher-kva.example", "bücher.example"),
        ("<contoso.com>", "contoso.com", "contoso.com"),
    ],
)
def test_normalise_domain(raw, ascii_name, unicode_name):
    name = normalise_domain(raw)
    assert (name.ascii, name.unicode) == (ascii_name, unicode_name)


@pytest.mark.parametrize("raw", ["", "contoso", "contoso..com", "-bad.com", "a b.com", "[2001:db8::1]", "x" * 64 + ".com"])
def test_normalise_domain_rejects(raw):
    with pytest.raises(DomainError):
        normalise_domain(raw)


def test_issue_levels_are_an_enum_whether_given_by_value_or_not():
    from dnsaudit.model import InputIssue, IssueLevel

    issue = InputIssue(3, "error", "no domain in this row; row not audited")
    assert issue.level is IssueLevel.ERROR and InputIssue(3, IssueLevel.ERROR, issue.message) == issue
    assert str(issue) == "row 3: error: no domain in this row; row not audited"
    assert issue.to_dict()["level"] == "error" and type(issue.to_dict()["level"]) is str
    with pytest.raises(ValueError):
        InputIssue(3, "fatal", "not a level")
