"""The offline snapshot shipped with dnsaudit: Microsoft's public records, with their date."""

from __future__ import annotations

from importlib import resources

from dnsaudit.zones import ZoneSet


def snapshot_date() -> str:
    text = (resources.files("dnsaudit") / "snapshot" / "SNAPSHOT.txt").read_text(encoding="utf-8")
    return next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("date:"))


def load_snapshot() -> ZoneSet:
    zones = ZoneSet()
    folder = resources.files("dnsaudit") / "snapshot"
    source = f"offline snapshot {snapshot_date()}"
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".zone"):
            zones.add_text(item.name.removesuffix(".zone"), item.read_text(encoding="utf-8"), source)
    return zones
