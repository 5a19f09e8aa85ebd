"""``--split-by client``: one folder per client that people can find, and ``clients/index.csv``.

Folder names keep the client's name as people wrote it (Unicode included, NFC) and change
only what a file system refuses: characters Windows forbids (``<>:"/\\|?*``) and control
characters become ``_``, trailing dots and spaces go, and Windows' reserved device names
(``CON``, ``NUL``, ``COM1``, … with or without an extension) get a ``_``. Where the file
system cannot store the Unicode name, an ASCII form (accents dropped) is used instead.
Two clients whose names come out alike (``A/B`` and ``A:B``, or ones differing only in
case, which Windows and macOS treat as one) are told apart by input order: the client
whose first row comes first keeps the plain name, the next one gets `` (2)``, and so on,
so the same list always gives the same folders.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from dnsaudit.model import Verdict

NO_CLIENT = "(no client)"
MAX_NAME = 60  # characters: deep folder paths still fit Windows' 260-character limit
_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


@dataclass(frozen=True)
class ClientFolder:
    client: str  # as in the input ("" for domains without a client)
    folder: str  # the folder's name under clients/
    indices: tuple[int, ...]  # the client's domains, indexes into run.domains

    @property
    def shown(self) -> str:
        return self.client or NO_CLIENT


def folder_name(client: str, unicode_ok: bool = True) -> str:
    """A folder name for ``client`` that every common file system accepts."""
    text = unicodedata.normalize("NFC", client or "no client")
    if not unicode_ok:
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = _FORBIDDEN.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip()[:MAX_NAME].rstrip(". ")
    if not text.strip("_"):
        text = "client"
    if text.split(".")[0].upper().rstrip() in _RESERVED:
        text += "_"
    return text


def unicode_names_work(parent: Path) -> bool:
    """Whether the file system under ``parent`` stores a non-ASCII name (and reads it back)."""
    probe = parent / ".dnsaudit-\u00fc\u00e9\u4e2d"
    try:
        probe.mkdir(parents=True, exist_ok=True)
        found = any(p.name == probe.name for p in parent.iterdir())
        probe.rmdir()
        return found
    except (OSError, UnicodeError):
        return False


def plan_folders(entries, unicode_ok: bool = True) -> list[ClientFolder]:
    """One folder per client, in input order (the first input row of each client);
    ``entries`` are those of the run's domains, in their order."""
    groups: dict[str, list[int]] = {}
    first_row: dict[str, int] = {}
    for index, entry in enumerate(entries):
        groups.setdefault(entry.client, []).append(index)
        first_row[entry.client] = min(first_row.get(entry.client, entry.row), entry.row)
    used: set[str] = set()
    folders = []
    for client in sorted(groups, key=lambda c: (first_row[c], c)):
        base = folder_name(client, unicode_ok)
        name, n = base, 1
        while name.casefold() in used:
            n += 1
            name = f"{base} ({n})"
        used.add(name.casefold())
        folders.append(ClientFolder(client, name, tuple(groups[client])))
    return folders


INDEX_COLUMNS = ["client", "folder", "domains", *(v.value for v in Verdict)]


def index_csv(folders: list[ClientFolder], verdicts) -> bytes:
    """clients/index.csv: client, folder and verdict counts; ``verdicts`` are the run's
    domains' verdicts in order. UTF-8 with a BOM (Excel), formula-looking names quoted."""
    from dnsaudit.reports.csv_report import neutralise

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(INDEX_COLUMNS)
    for f in folders:
        counts = dict.fromkeys(Verdict, 0)
        for i in f.indices:
            counts[verdicts[i]] += 1
        writer.writerow([neutralise(f.shown), neutralise(f.folder), len(f.indices), *counts.values()])
    return text.getvalue().encode("utf-8-sig")
