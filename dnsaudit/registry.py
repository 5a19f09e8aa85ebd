"""One registry for every kind of plugin: checks and report writers, ours and third parties'.

Built-in plugins are entry points in our own pyproject.toml, in the same groups a
third-party package uses, as flake8 does for its checks and formatters. Loading is three
separate steps, so each can be tested and reasoned about alone:

1. ``find``: the entry points of a group, with the distribution (name and version) that
   declares each, and nothing imported;
2. ``load``: import one entry point's object;
3. ``validate_check`` / ``validate_writer``: is it a well-formed plugin of its kind, under
   the name it is registered as?

One policy covers both kinds: a broken built-in is a bug and raises; a broken third-party
plugin becomes a warning (an error with ``strict=True``, the CLI's ``--strict-plugins``)
and the run goes on without it. Where a plugin came from is kept in the registry's own
records (``Loaded.source``), never written onto the plugin's class.
"""

from __future__ import annotations

import enum
import fnmatch
import inspect
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from dnsaudit.check import OPT_IN_CONDITIONS, Check
from dnsaudit.model import CheckInfo, Severity

CHECK_GROUP = "dnsaudit.checks"
REPORT_GROUP = "dnsaudit.reports"
OWN_DISTRIBUTION = "dnsaudit"
CHECK_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
FORMAT_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


class PluginError(Exception):
    """A plugin that cannot be used; the message says which and why."""


class PluginKind(enum.Enum):
    """The plugin groups: entry-point group and how messages name one of its plugins."""

    CHECK = (CHECK_GROUP, "check plugin")
    REPORT = (REPORT_GROUP, "report format")

    @property
    def group(self) -> str:
        return self.value[0]

    @property
    def noun(self) -> str:
        return self.value[1]


@dataclass(frozen=True)
class Source:
    """Provenance of a plugin: the distribution that declares its entry point."""

    distribution: str
    version: str = ""

    @property
    def built_in(self) -> bool:
        return self.distribution == OWN_DISTRIBUTION

    def __str__(self) -> str:
        return f"{self.distribution} {self.version}".strip()


@dataclass(frozen=True)
class Found:
    """An entry point that was found and not yet imported."""

    kind: PluginKind
    name: str
    target: str  # "module:attribute", as the entry point declares it
    source: Source
    entry_point: EntryPoint = field(repr=False, compare=False)


@dataclass(frozen=True)
class Plugin:
    """A loaded, validated plugin and where it came from."""

    name: str
    obj: Any  # type[Check] or type[ReportWriter]
    source: Source


@dataclass
class Loaded:
    """What one loading of a group produced: the usable plugins, and warnings for the rest."""

    plugins: list[Plugin] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def checks(self) -> list[type[Check]]:
        return [p.obj for p in self.plugins]

    @property
    def writers(self) -> list[type]:  # dnsaudit.reports.base.ReportWriter subclasses
        return [p.obj for p in self.plugins]

    def source(self, obj: object) -> Source:
        """Where a loaded plugin came from (raises KeyError for one this registry did not load)."""
        for plugin in self.plugins:
            if plugin.obj is obj:
                return plugin.source
        raise KeyError(obj)

    def info(self, cls: type[Check]) -> CheckInfo:
        """The catalogue entry of a loaded check, as results.json and the reports show it."""
        return check_info(cls, self.source(cls))


# -- 1. find ----------------------------------------------------------------------------


def _source(ep: EntryPoint) -> Source:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return Source("?")
    return Source(dist.name or "?", dist.version or "")


def find(kind: PluginKind) -> list[Found]:
    """Every entry point of the group, sorted by name; nothing is imported.

    Each distribution's metadata is read once (a name and version cost a parse of its whole
    METADATA file, and the built-ins alone are 28 entry points of one distribution).
    """
    sources: dict[object, Source] = {}

    def source(ep: EntryPoint) -> Source:
        key = getattr(getattr(ep, "dist", None), "_path", None) or id(ep)
        if key not in sources:
            sources[key] = _source(ep)
        return sources[key]

    return sorted((Found(kind, ep.name, ep.value, source(ep), ep) for ep in entry_points(group=kind.group)),
                  key=lambda f: f.name)


# -- 2. load ----------------------------------------------------------------------------


def load(found: Found) -> object:
    """Import the entry point's object; whatever goes wrong becomes a PluginError."""
    from dnsaudit.sigint import wrapped_interrupt

    try:
        return found.entry_point.load()
    except Exception as exc:  # a plugin can fail in any way while importing
        if wrapped_interrupt(exc):  # Ctrl-C while it imported, as Python 3.11 wraps it
            raise KeyboardInterrupt from None
        raise PluginError(f"{found.target} cannot be imported: {type(exc).__name__}: {exc}") from exc


# -- 3. validate ------------------------------------------------------------------------


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
    if cls.opt_in != "" and cls.opt_in not in OPT_IN_CONDITIONS:
        known = ", ".join(sorted(OPT_IN_CONDITIONS))
        raise PluginError(f"check {cls.id!r} has opt_in {cls.opt_in!r}; use \"\" or one of: {known}")
    return cls


def validate_writer(cls: object, name: str) -> type:
    """Raise PluginError unless ``cls`` is a well-formed report writer registered as ``name``.

    Judged by what the core uses of a writer (its class attributes and ``write``), not by
    its base class: dnsaudit.reports.base.ReportWriter lives with the writers, above the
    core, so the registry does not import it.
    """
    if not (inspect.isclass(cls) and callable(getattr(cls, "write", None))
            and all(hasattr(cls, a) for a in ("format", "filename", "cost", "per_client"))):
        raise PluginError(f"report format {name!r} is not a report writer (subclass "
                          "dnsaudit.reports.base.ReportWriter: format, filename, cost, per_client, write)")
    writer: Any = cls  # a class with those attributes, of any type: they are judged one by one below
    if writer.format != name:
        raise PluginError(f"report format {name!r} declares format {writer.format!r}; "
                          "the entry-point name must equal the format")
    if not FORMAT_NAME.match(name):
        raise PluginError(f"report format name {name!r} is not lower case letters, digits, '-' or '_'")
    if not writer.filename or "/" in writer.filename or "\\" in writer.filename or writer.filename.startswith("."):
        raise PluginError(f"report format {name!r} has filename {writer.filename!r}; it must be a plain file name")
    if not (isinstance(writer.cost, int) and not isinstance(writer.cost, bool) and writer.cost > 0):
        raise PluginError(f"report format {name!r} has cost {writer.cost!r}, not a positive whole number")
    if not isinstance(writer.per_client, bool):
        raise PluginError(f"report format {name!r} has per_client {writer.per_client!r}, not True or False")
    return cls


# -- the policy -------------------------------------------------------------------------


def load_group(kind: PluginKind, validate: Callable[[object, str], Any], *, strict: bool = False,
               found: Iterable[Found] | None = None) -> Loaded:
    """Find, load and validate every plugin of a group (or the ``found`` ones), by name.

    A broken built-in raises PluginError; so does a broken third-party plugin with
    ``strict``; otherwise it is left out with a warning. A name registered twice is broken
    the second time.
    """
    loaded = Loaded()
    seen: dict[str, Source] = {}
    for candidate in find(kind) if found is None else found:
        try:
            if candidate.name in seen:
                raise PluginError(f"{kind.noun} {candidate.name!r} is registered twice "
                                  f"({seen[candidate.name].distribution} and {candidate.source.distribution})")
            obj = validate(load(candidate), candidate.name)
        except PluginError as exc:
            message = f"{kind.noun} {candidate.name!r} from {candidate.source} cannot be used: {exc}"
            if candidate.source.built_in or strict:
                raise PluginError(message) from exc
            loaded.warnings.append(message)
            continue
        seen[candidate.name] = candidate.source
        loaded.plugins.append(Plugin(candidate.name, obj, candidate.source))
    return loaded


def load_checks(strict: bool = False) -> Loaded:
    """Every registered check, validated, sorted by id."""
    return load_group(PluginKind.CHECK, validate_check, strict=strict)


def load_writers(formats: list[str], strict: bool = False) -> Loaded:
    """The writers of ``formats`` (every registered one when empty), sorted by format name.

    Only the writers asked for are imported (some import heavy libraries). A format asked
    for by name that cannot be used is an error whoever provides it: the user would
    otherwise miss the report they asked for.
    """
    everything = find(PluginKind.REPORT)
    names = {f.name for f in everything}
    unknown = [f for f in formats if f not in names]
    if unknown:
        raise PluginError(f"unknown report format {', '.join(unknown)} (available: {', '.join(sorted(names))})")
    chosen = [f for f in everything if not formats or f.name in formats]
    return load_group(PluginKind.REPORT, validate_writer, strict=strict or bool(formats), found=chosen)


def format_names() -> list[str]:
    """The registered report formats, without importing any writer."""
    return sorted({f.name for f in find(PluginKind.REPORT)})


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


def for_run(loaded: list[type[Check]], selected: list[type[Check]],
            conditions: Collection[str] = ()) -> list[type[Check]]:
    """The checks a run makes: the selected ones without an opt-in condition, and every check
    whose ``Check.opt_in`` condition the run meets (``conditions``, from OPT_IN_CONDITIONS)."""
    return [c for c in selected if not c.opt_in] + [c for c in loaded if c.opt_in and c.opt_in in conditions]


def check_info(cls: type[Check], source: Source) -> CheckInfo:
    return CheckInfo(
        id=cls.id,
        area=cls.area,
        title=cls.title(),
        severity=cls.severity,
        doc=cls.documentation(),
        references=tuple(cls.references),
        version=str(cls.version),
        source=source.distribution,
    )
