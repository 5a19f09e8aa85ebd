"""Reading ``dnsaudit.toml``: every key checked, every mistake one line naming the key and the file.

Top-level keys are ``audit`` options by their long names (``fail-on = "blocking"``,
``nameserver = ["1.1.1.1"]``), validated with the same converters as the command line
(``OptionSpec``, built from the parser by dnsaudit.cli.policy_file), plus:

* ``[[waiver]]`` tables: ``check``, ``domain`` and/or ``client``, ``reason``, ``owner``,
  ``expires`` (a TOML date);
* ``waivers = "FILE"``: more ``[[waiver]]`` tables in a file of their own (relative to this one);
* ``[[expect]]`` tables: ``client`` and/or ``domain``, ``gateway``, ``spf-include``,
  ``spf-forbid``, ``dmarc-minimum``, ``cloud``, ``phase``.

Relative paths in the file are relative to the file's folder, so a cron job started
anywhere finds the same input and history.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dnsaudit.model import Cloud, Phase
from dnsaudit.policy.expectations import DMARC_POLICIES, Expectation
from dnsaudit.policy.match import domain_pattern
from dnsaudit.policy.waivers import Waiver

MAX_BYTES = 4 * 1024 * 1024  # a policy file is written by hand; anything bigger is a mistake

WAIVER_KEYS = {"check": str, "domain": str, "client": str, "reason": str, "owner": str, "expires": dt.date}
EXPECT_KEYS = {"client": str, "domain": str, "gateway": str, "spf-include": list, "spf-forbid": list,
               "dmarc-minimum": str, "cloud": str, "phase": str}
TYPE_NAMES = {str: "a string", list: "a list of strings", dt.date: "a date (2026-12-31)", bool: "true or false"}


class PolicyError(Exception):
    """The policy file cannot be used; the message is one line naming the file and the key."""


@dataclass(frozen=True)
class OptionSpec:
    """What one ``audit`` option accepts in the file (built from the parser's action)."""

    name: str  # the long option without dashes: "fail-on"
    dest: str  # the argparse destination: "fail_on"
    kind: str  # "flag" (true/false), "value" or "list" (repeatable on the command line)
    convert: Callable[[str], Any] | None = None  # the option's argparse type
    choices: tuple[str, ...] = ()
    numeric: bool = False  # a number (or a word the converter knows, as workers = "auto")
    path: bool = False  # relative to the policy file's folder


@dataclass(frozen=True)
class Policy:
    path: str  # as given, for messages
    options: Mapping[str, Any] = field(default_factory=dict)  # dest -> converted value
    waivers: tuple[Waiver, ...] = ()
    expectations: tuple[Expectation, ...] = ()


def load_policy(path: str | Path, options: Mapping[str, OptionSpec]) -> Policy:
    """Read and validate the policy file at ``path``; raises PolicyError with one line."""
    path = Path(path)
    data = _read_toml(path)
    specs = dict(options.items())
    chosen: dict[str, Any] = {}
    waivers: list[Waiver] = []
    expectations: list[Expectation] = []
    for key, value in data.items():
        if key == "waiver":
            waivers += _waivers(path, value, path.name)
        elif key == "waivers":
            waivers += _waiver_file(path, value)
        elif key == "expect":
            expectations += _expectations(path, value)
        elif key in specs:
            chosen[specs[key].dest] = _option(path, specs[key], value)
        else:
            known = list(specs) + ["waiver", "waivers", "expect"]
            raise PolicyError(f"{path}: unknown key '{key}'{_did_you_mean(key, known)}")
    return Policy(str(path), chosen, tuple(waivers), tuple(expectations))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise PolicyError(f"{path}: no such policy file") from None
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise PolicyError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MiB; not a policy file")
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None


def _did_you_mean(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key.replace("_", "-"), known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _option(path: Path, spec: OptionSpec, value: Any) -> Any:
    where = f"{path}: {spec.name}"
    if spec.kind == "flag":
        if not isinstance(value, bool):
            raise PolicyError(f"{where}: must be true or false, not {_shown(value)}")
        return value
    if spec.kind == "list":
        items = value if isinstance(value, list) else [value]
        return [_scalar(path, spec, item, where) for item in items]
    return _scalar(path, spec, value, where)


def _scalar(path: Path, spec: OptionSpec, value: Any, where: str) -> Any:
    allowed = (str, int, float) if spec.numeric else (str,)
    if isinstance(value, bool) or not isinstance(value, allowed):
        wanted = "a number" if spec.numeric else "a string"
        raise PolicyError(f"{where}: must be {wanted}, not {_shown(value)}")
    text = str(value)
    if spec.choices and text not in spec.choices:
        raise PolicyError(f"{where}: {text!r} is not one of {', '.join(spec.choices)}")
    if spec.path and text:
        text = str(Path(text).expanduser())
        text = text if Path(text).is_absolute() else str(path.parent / text)
    if spec.convert is None:
        return text
    try:
        return spec.convert(text)
    except (ValueError, TypeError, argparse.ArgumentTypeError) as exc:  # as the command line would refuse it
        raise PolicyError(f"{where}: {text!r} is not valid: {exc or 'wrong value'}") from None


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (dict, list)):
        return "a table" if isinstance(value, dict) else "a list"
    return repr(value)


def _tables(path: Path, value: Any, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise PolicyError(f"{path}: '{name}' must be written as [[{name}]] tables")
    return value


def _fields(path: Path, table: dict[str, Any], keys: Mapping[str, type], where: str) -> dict[str, Any]:
    for key, value in table.items():
        if key not in keys:
            raise PolicyError(f"{path}: {where}: unknown key '{key}'{_did_you_mean(key, list(keys))}")
        wanted = keys[key]
        if wanted is dt.date and isinstance(value, str):
            try:
                value = table[key] = dt.date.fromisoformat(value)
            except ValueError:
                raise PolicyError(f"{path}: {where}: {key}: {value!r} is not a date (write 2026-12-31)") from None
        if wanted is list and isinstance(value, str):
            value = table[key] = [value]
        ok = (isinstance(value, dt.date) and not isinstance(value, dt.datetime) if wanted is dt.date
              else isinstance(value, list) and all(isinstance(v, str) for v in value) if wanted is list
              else isinstance(value, wanted) and not isinstance(value, bool))
        if not ok:
            raise PolicyError(f"{path}: {where}: {key} must be {TYPE_NAMES[wanted]}, not {_shown(value)}")
    return table


def _waivers(path: Path, value: Any, shown_as: str) -> list[Waiver]:
    waivers = []
    for number, table in enumerate(_tables(path, value, "waiver"), 1):
        where = f"waiver {number}"
        table = _fields(path, dict(table), WAIVER_KEYS, where)
        for required in ("check", "reason", "expires"):
            if not str(table.get(required, "")).strip():
                why = " (a waiver without an end is a finding waiting to be forgotten)" if required == "expires" else ""
                raise PolicyError(f"{path}: {where}: '{required}' is required{why}")
        if not (table.get("domain", "").strip() or table.get("client", "").strip()):
            raise PolicyError(f"{path}: {where}: give 'domain' (a name or glob such as \"*\") or 'client'")
        waivers.append(Waiver(
            check=table["check"].strip().lower(), reason=table["reason"].strip(), expires=table["expires"],
            domain=_pattern(path, where, table.get("domain", "")), client=table.get("client", "").strip(),
            owner=table.get("owner", "").strip(), source=f"{shown_as}, {where}"))
    return waivers


def _waiver_file(path: Path, value: Any) -> list[Waiver]:
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"{path}: waivers must be the name of a file with [[waiver]] tables, not {_shown(value)}")
    other = Path(value).expanduser()
    other = other if other.is_absolute() else path.parent / other
    data = _read_toml(other)
    unknown = [k for k in data if k != "waiver"]
    if unknown:
        raise PolicyError(f"{other}: unknown key '{unknown[0]}' (a waivers file holds only [[waiver]] tables)")
    return _waivers(other, data.get("waiver", []), other.name)


def _expectations(path: Path, value: Any) -> list[Expectation]:
    out = []
    for number, table in enumerate(_tables(path, value, "expect"), 1):
        where = f"expect {number}"
        table = _fields(path, dict(table), EXPECT_KEYS, where)
        if not (table.get("domain", "").strip() or table.get("client", "").strip()):
            raise PolicyError(f"{path}: {where}: give 'client' or 'domain' (a name or glob)")
        _one_of(path, where, "dmarc-minimum", table.get("dmarc-minimum", ""), DMARC_POLICIES)
        _one_of(path, where, "cloud", table.get("cloud", ""), tuple(c.value for c in Cloud))
        _one_of(path, where, "phase", table.get("phase", ""), tuple(p.value for p in Phase))
        if set(map(str.lower, table.get("spf-include", []))) & set(map(str.lower, table.get("spf-forbid", []))):
            raise PolicyError(f"{path}: {where}: a name cannot be in both spf-include and spf-forbid")
        out.append(Expectation(
            source=f"{path.name}, {where}", client=table.get("client", "").strip(),
            domain=_pattern(path, where, table.get("domain", "")),
            gateway=table.get("gateway", "").strip().lower().rstrip("."),
            spf_include=tuple(s.strip().lower().rstrip(".") for s in table.get("spf-include", ()) if s.strip()),
            spf_forbid=tuple(s.strip().lower().rstrip(".") for s in table.get("spf-forbid", ()) if s.strip()),
            dmarc_minimum=table.get("dmarc-minimum", "").strip(), cloud=table.get("cloud", "").strip(),
            phase=table.get("phase", "").strip()))
    return out


def _one_of(path: Path, where: str, key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value and value.strip() not in allowed:
        raise PolicyError(f"{path}: {where}: {key} {value!r} is not one of {' | '.join(allowed)}")


def _pattern(path: Path, where: str, text: str) -> str:
    if not text.strip():
        return ""
    try:
        return domain_pattern(text)
    except ValueError as exc:
        raise PolicyError(f"{path}: {where}: domain {text!r}: {exc}") from None
