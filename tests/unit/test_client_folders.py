"""Client folder names (reports.split): readable, valid on every common file system, stable by input order."""

from __future__ import annotations

from dnsaudit.model import DomainEntry
from dnsaudit.reports.split import folder_name, plan_folders, unicode_names_work


def test_names_keep_unicode_and_lose_only_what_file_systems_refuse():
    assert folder_name("Müller AG") == "Müller AG"
    assert folder_name("Nørthwind A/S") == "Nørthwind A_S"
    assert folder_name('a<b>c:d"e\\f|g?h*i') == "a_b_c_d_e_f_g_h_i"
    assert folder_name("Trailing dots... ") == "Trailing dots"
    assert folder_name("  ") == "client" and folder_name("") == "no client"
    assert folder_name("x" * 200) == "x" * 60
    assert folder_name("tab\tand\nnewline") == "tab_and_newline"


def test_windows_reserved_device_names_are_changed():
    for name in ("CON", "nul", "Aux", "COM1", "lpt9", "NUL.txt", "con .x"):
        assert folder_name(name) == name + "_", name
    assert folder_name("CONTOSO") == "CONTOSO" and folder_name("COM10") == "COM10"


def test_ascii_fallback_drops_accents_only():
    assert folder_name("Möller AG", unicode_ok=False) == "Moller AG"
    assert folder_name("Müller AG", unicode_ok=False) == "Muller AG"


def entries(*clients: str) -> list[DomainEntry]:
    return [DomainEntry(f"d{i}.test", row=i + 2, client=c) for i, c in enumerate(clients)]


def test_collisions_are_broken_by_input_order_not_by_name():
    first = plan_folders(entries("Zeta/EU", "Alpha", "zeta:eu", "ZETA?EU"))
    assert [(f.client, f.folder) for f in first] == [
        ("Zeta/EU", "Zeta_EU"), ("Alpha", "Alpha"), ("zeta:eu", "zeta_eu (2)"), ("ZETA?EU", "ZETA_EU (3)")]
    again = plan_folders(entries("Zeta/EU", "Alpha", "zeta:eu", "ZETA?EU"))
    assert again == first
    swapped = plan_folders(entries("zeta:eu", "Zeta/EU"))
    assert [(f.client, f.folder) for f in swapped] == [("zeta:eu", "zeta_eu"), ("Zeta/EU", "Zeta_EU (2)")]


def test_a_client_is_placed_by_its_first_row_and_keeps_all_its_domains():
    plan = plan_folders(entries("Müller AG", "Möller AG", "Müller AG", ""))
    assert [(f.client, f.folder, f.indices) for f in plan] == [
        ("Müller AG", "Müller AG", (0, 2)), ("Möller AG", "Möller AG", (1,)), ("", "no client", (3,))]


def test_the_file_system_probe(tmp_path):
    assert unicode_names_work(tmp_path / "clients") is True
    assert list((tmp_path / "clients").iterdir()) == []
