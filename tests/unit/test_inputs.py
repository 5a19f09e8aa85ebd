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


def test_xlsx_named_csv_is_read_as_xlsx(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["domain"])
    book.active.append(["contoso.com"])
    path = tmp_path / "exported.csv"
    book.save(path)
    assert domains(read_input(path)) == ["contoso.com"]


# -- what people paste in place of a domain -----------------------------------------------


def test_urls_and_addresses_are_normalised_with_a_warning(tmp_path):
    text = "domain\nhttps://www.contoso.com/owa\nadmin@Fabrikam.com\nmailto:x@northwind.example\n"
    result = read_input(write(tmp_path, text))
    assert domains(result) == ["www.contoso.com", "fabrikam.com", "northwind.example"]
    assert [(i.row, i.level) for i in result.issues] == [(2, "warning"), (3, "warning"), (4, "warning")]


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
        + "long.example" + "a" * 250 + ",,,,,\n"  # 14
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
    with pytest.raises(InputError, match="binary"):
        read_input(write(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))))
    with pytest.raises(InputError, match=r"\.xls"):
        read_input(write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls"))


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
