"""Writing a run's reports: the chosen formats, and per-client copies for MSPs.

Writers come from the ``dnsaudit.reports`` entry points (our own included), so a third-party
format installs the same way a built-in one does.
"""

from __future__ import annotations

from pathlib import Path

from dnsaudit.model import AuditRun
from dnsaudit.registry import OWN_DISTRIBUTION, PluginError, report_writers

DEFAULT_TITLE = "Microsoft 365 mail readiness"
NO_CLIENT = "(no client)"


def available_formats() -> list[str]:
    return sorted(report_writers())


def load_writers(formats: list[str]) -> list:
    """Writer instances for ``formats`` (all when empty), in a stable order."""
    from dnsaudit.reports.base import ReportWriter

    eps = report_writers()
    unknown = [f for f in formats if f not in eps]
    if unknown:
        raise PluginError(f"unknown report format {', '.join(unknown)} (available: {', '.join(sorted(eps))})")
    writers = []
    for name in formats or sorted(eps):
        ep = eps[name]
        try:
            cls = ep.load()
            if not (isinstance(cls, type) and issubclass(cls, ReportWriter) and cls.format == name):
                raise PluginError(f"{ep.value} is not a ReportWriter with format {name!r}")
        except Exception as exc:
            source = ep.dist.name if ep.dist else "?"
            if source == OWN_DISTRIBUTION or formats:
                raise PluginError(f"report format {name!r} from {source} cannot be used: {exc}") from exc
            continue  # a broken third-party writer nobody asked for by name
        writers.append(cls())
    return writers


def write_reports(run: AuditRun, out_dir: Path, writers: list, *, split_by: str | None = None,
                  title: str = DEFAULT_TITLE) -> list[Path]:
    """Write every report; with ``split_by="client"`` also one set per client under clients/."""
    from dnsaudit.reports.view import slug

    written = [w.write(run, out_dir, title) for w in writers]
    if split_by == "client":
        groups: dict[str, list] = {}
        for d in run.domains:
            groups.setdefault(d.entry.client or NO_CLIENT, []).append(d)
        used: set[str] = set()
        for client, domains in sorted(groups.items()):
            name = slug(client if client != NO_CLIENT else "no-client")
            while name.lower() in used:  # two clients whose names slug alike
                name += "_"
            used.add(name.lower())
            folder = out_dir / "clients" / name
            folder.mkdir(parents=True, exist_ok=True)
            subset = run.subset(domains)
            written += [w.write(subset, folder, f"{title} — {client}") for w in writers if w.format != "json"]
    return written
