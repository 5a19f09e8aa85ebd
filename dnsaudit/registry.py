"""Finds checks and report writers through entry points, the way third parties add theirs.

Built-in plugins are registered in our own pyproject.toml in the same groups a third-party
package uses, as flake8 does. A broken built-in is a bug and raises; a broken third-party
plugin becomes a warning (an error with ``strict=True``) and the run goes on without it.
"""

from __future__ import annotations

import fnmatch
import inspect
import re
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points

from dnsaudit.check import Check
from dnsaudit.model import CheckInfo, Severity

CHECK_GROUP = "dnsaudit.checks"
REPORT_GROUP = "dnsaudit.reports"
OWN_DISTRIBUTION = "dnsaudit"
CHECK_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


class PluginError(Exception):
    """A plugin that cannot be used; the message says which and why."""


@dataclass
class Loaded:
    checks: list[type[Check]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _distribution(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return dist.name if dist is not None else "?"


def validate_check(cls: object, name: str) -> type[Check]:
    """Raise PluginError unless ``cls`` is a well-formed check registered as ``name``."""
    if not (inspect.isclass(cls) and issubclass(cls, Check)):
        raise PluginError(f"check plugin {name!r} is not a subclass of dnsaudit.check.Check")
    if cls.id != name:
        raise PluginError(f"check plugin {name!r} declares id {cls.id!r}; the entry-point name must equal the id")
    if not CHECK_ID.match(cls.id):
        raise PluginError(f"check id {cls.id!r} is not of the form area.name (lower case, digits, underscores)")
    if cls.area != cls.id.split(".")[0]:
        raise PluginError(f"check {cls.id!r} declares area {cls.area!r}; it must be the part before the dot")
    if not isinstance(cls.severity, Severity):
        raise PluginError(f"check {cls.id!r} has severity {cls.severity!r}, not a dnsaudit.model.Severity")
    if not cls.title():
        raise PluginError(f"check {cls.id!r} has no docstring; its first line is the title users see")
    if inspect.isabstract(cls) or not inspect.iscoroutinefunction(cls.run):
        raise PluginError(f"check {cls.id!r} must implement 'async def run(self, ctx)'")
    return cls


def load_checks(strict: bool = False) -> Loaded:
    """Every registered check, validated, sorted by id."""
    loaded = Loaded()
    seen: dict[str, str] = {}
    for ep in sorted(entry_points(group=CHECK_GROUP), key=lambda e: e.name):
        source = _distribution(ep)
        try:
            if ep.name in seen:
                raise PluginError(f"check id {ep.name!r} is registered twice ({seen[ep.name]} and {source})")
            cls = validate_check(ep.load(), ep.name)
        except Exception as exc:  # a plugin can fail in any way while importing
            message = f"check plugin {ep.name!r} from {source} cannot be used: {exc}"
            if source == OWN_DISTRIBUTION or strict:
                raise PluginError(message) from exc
            loaded.warnings.append(message)
            continue
        seen[ep.name] = source
        cls._source = source  # type: ignore[attr-defined]
        loaded.checks.append(cls)
    return loaded


def select(checks: list[type[Check]], include: list[str], exclude: list[str]) -> list[type[Check]]:
    """Checks whose id matches one of ``include`` (all when empty) and none of ``exclude``.

    Patterns are shell globs on the id (``mx.*``, ``*.srv``); a pattern matching nothing is
    an error, so a typo does not silently audit less than the user thinks.
    """
    for pattern in [*include, *exclude]:
        if not any(fnmatch.fnmatchcase(c.id, pattern) for c in checks):
            known = ", ".join(c.id for c in checks)
            raise PluginError(f"no check matches {pattern!r} (known: {known})")
    chosen = [c for c in checks if not include or any(fnmatch.fnmatchcase(c.id, p) for p in include)]
    return [c for c in chosen if not any(fnmatch.fnmatchcase(c.id, p) for p in exclude)]


def check_info(cls: type[Check]) -> CheckInfo:
    return CheckInfo(
        id=cls.id,
        area=cls.area,
        title=cls.title(),
        severity=cls.severity,
        doc=cls.documentation(),
        references=tuple(cls.references),
        version=str(cls.version),
        source=getattr(cls, "_source", OWN_DISTRIBUTION),
    )


def report_writers() -> dict[str, EntryPoint]:
    """Report writers by format name (loaded lazily: some import heavy libraries)."""
    return {ep.name: ep for ep in entry_points(group=REPORT_GROUP)}
