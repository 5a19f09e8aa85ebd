"""Alerts after a run, where the team already looks (Teams, Slack, e-mail, a webhook).

Sent when the run regressed against the compared run (``--compare``) or when a result
reached ``--fail-on``: a short text saying what got worse, for which domains, the first
lines of the drift and where the reports are. Targets are URLs (``--notify URL``,
repeatable, or ``notify = [...]`` in the policy file):

* with the optional extra ``dnsaudit[notify]``, any URL Apprise speaks (``msteams://``,
  ``slack://``, ``mailto://``, ``json://``, ... and the services' own webhook addresses);
* without it, and for a plain ``https://``/``http://`` address Apprise does not know, a
  JSON POST through httpx: ``json://host/path`` posts to ``http://host/path`` and
  ``jsons://`` to ``https://``, with Apprise's JSON fields (``version``, ``title``,
  ``message``, ``type``) plus ``text`` (what Slack and Teams incoming webhooks read).

A notification that cannot be delivered is a warning line, never a changed exit code or
a lost report: the reports are written before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from dnsaudit.model import AuditRun
from dnsaudit.scoring import reaches
from dnsaudit.text import readable_time

if TYPE_CHECKING:
    from dnsaudit.drift import Drift

MAX_DOMAINS = 10  # named in the text; the rest are counted
MAX_DRIFT_LINES = 12
TIMEOUT = 10.0
FALLBACK_SCHEMES = {"json": "http", "jsons": "https", "http": "http", "https": "https"}


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    kind: str = "warning"  # Apprise's notify type: info | success | warning | failure


def build_message(run: AuditRun, *, fail_on: str, reports: str, drift: Drift | None = None) -> Message | None:
    """The alert for a finished run, or None when nothing calls for one.

    ``drift`` (a dnsaudit.drift.Drift) is given with --compare: then a regression is what
    alerts; without it, results at the ``fail_on`` level, from the run's report rows (made
    by the reports' one pass over the domains, or here).
    """
    source = run.info.input_file
    if drift is not None:
        if not drift.regressed:
            return None
        worse = [c for c in drift.changes if c.regression]
        domains = list(dict.fromkeys(c.domain for c in worse))
        checks = sorted({c.check_id for c in worse})
        head = (f"{len(worse)} result{_s(worse)} got worse since run {drift.before_run} "
                f"({readable_time(drift.before_started)}), on {len(domains)} domain{_s(domains)}.")
        lines = drift.lines()[1:]
        title = f"dnsaudit: {source} regressed ({len(domains)} domain{_s(domains)})"
    else:
        if fail_on == "never":
            return None
        from dnsaudit.reports.view import rows_in_input_order

        domains, lines = [], []
        seen: set[str] = set()
        # The report rows hold each domain's problems in short: no domain is decoded again.
        for row in rows_in_input_order(run):
            hits = [f for f in row.problems if reaches(f, fail_on)]
            if not hits:
                continue
            domains.append(row.entry.label)
            seen.update(f.check_id for f in hits)
            lines += [f"  {row.entry.label}  {f.check_id}  {f.status.value}: {f.message}" for f in hits[:2]]
        if not domains:
            return None
        checks = sorted(seen)
        head = f"{len(domains)} domain{_s(domains)} with results at --fail-on {fail_on}."
        title = f"dnsaudit: {source}: {len(domains)} domain{_s(domains)} at --fail-on {fail_on}"
    named = ", ".join(domains[:MAX_DOMAINS]) + (f" and {len(domains) - MAX_DOMAINS} more"
                                                 if len(domains) > MAX_DOMAINS else "")
    body = [head, f"Checks: {', '.join(checks)}", f"Domains: {named}", ""]
    body += lines[:MAX_DRIFT_LINES]
    if len(lines) > MAX_DRIFT_LINES:
        body.append(f"  ... {len(lines) - MAX_DRIFT_LINES} more lines in the reports")
    body += ["", f"Reports: {reports}"]
    return Message(title, "\n".join(body), "failure" if drift is not None else "warning")


def send(urls: Sequence[str], message: Message, *, timeout: float = TIMEOUT,
         apprise_loader: Callable[[], object | None] | None = None) -> list[str]:
    """Send ``message`` to every URL; returns one warning line per URL that failed (none: all sent).

    ``apprise_loader`` returns the apprise module or None (tests choose; by default it is
    imported when installed).
    """
    from dnsaudit.sigint import wrapped_interrupt

    apprise = (apprise_loader or _import_apprise)()
    warnings = []
    for url in urls:
        try:
            problem = _send_one(url, message, timeout, apprise)
        except Exception as exc:  # noqa: BLE001 - a notification must never cost the run its outcome
            if wrapped_interrupt(exc):  # Ctrl-C while apprise imported, as Python 3.11 wraps it
                raise KeyboardInterrupt from None
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            warnings.append(f"notification to {redacted(url)} failed: {problem}")
    return warnings


def _send_one(url: str, message: Message, timeout: float, apprise: Any) -> str:  # Any: the optional apprise module
    scheme = urlsplit(url).scheme.lower()
    if apprise is not None:
        notifier = apprise.Apprise()
        if notifier.add(url):
            with apprise.LogCapture(level=apprise.logging.WARNING) as log:
                sent = notifier.notify(title=message.title, body=message.body,
                                       notify_type=getattr(apprise.NotifyType, message.kind.upper()))
            return "" if sent else (_last_line(log.getvalue()) or "Apprise could not deliver it")
        if scheme not in ("http", "https"):
            return "Apprise does not know this kind of URL (see its list of supported services)"
    if scheme not in FALLBACK_SCHEMES:
        return (f"'{scheme}://' needs Apprise (pip install 'dnsaudit[notify]'); without it only json://, "
                "jsons://, http:// and https:// webhooks work")
    return _post(url, message, timeout)


def _post(url: str, message: Message, timeout: float) -> str:
    import httpx

    parts = urlsplit(url)
    target = urlunsplit((FALLBACK_SCHEMES[parts.scheme.lower()], parts.netloc, parts.path or "/", parts.query, ""))
    payload = {"version": "1.0", "title": message.title, "message": message.body, "type": message.kind,
               "text": f"{message.title}\n\n{message.body}"}
    try:
        response = httpx.post(target, json=payload, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if response.status_code >= 300:
        return f"the server answered HTTP {response.status_code}"
    return ""


def redacted(url: str) -> str:
    """A target for messages: scheme and host only (webhook paths and passwords are secrets)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}/…" if parts.path or parts.query else f"{parts.scheme}://{host}{port}"


def _import_apprise() -> object | None:
    try:
        import apprise
    except ImportError:
        return None
    return apprise


def _last_line(text: str) -> str:
    """The last line Apprise logged, without the logging module's time and level in front."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return re.sub(r"^\d{4}-\d\d-\d\d [\d:,]+ - [A-Z]+ - ", "", lines[-1]) if lines else ""


def _s(items: Iterable[object]) -> str:
    return "" if len(list(items)) == 1 else "s"
