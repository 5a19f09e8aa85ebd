"""The policy file: options by their long names, waivers and expectations, one error line per mistake."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import pytest

from dnsaudit.cli.policy_file import given_on_command_line, merge, option_specs
from dnsaudit.policy import PolicyError, load_policy


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def parsers():
    """A small parser shaped like 'dnsaudit audit' (the real one is tested in the CLI tests)."""
    top = argparse.ArgumentParser(prog="dnsaudit")
    sub = top.add_subparsers(dest="command")
    audit = sub.add_parser("audit")
    audit.add_argument("input", nargs="?")
    audit.add_argument("--nameserver", action="append", default=[])
    audit.add_argument("--timeout", type=float, default=3.0)
    audit.add_argument("--keep", type=_positive_int)
    audit.add_argument("--fail-on", choices=("warn", "fail", "blocking", "never"), default="fail")
    audit.add_argument("--quiet", action="store_true")
    audit.add_argument("--history", type=Path)
    audit.add_argument("--format", action="append", default=[])
    audit.add_argument("--config", type=Path)
    return top, audit


def write(tmp_path: Path, text: str, name: str = "dnsaudit.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str):
    return load_policy(write(tmp_path, text), option_specs(parsers()[1], extra_paths=("input",)))


def error(tmp_path: Path, text: str) -> str:
    with pytest.raises(PolicyError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    assert "\n" not in message and "dnsaudit.toml" in message
    return message


def test_options_by_their_long_names_converted_as_the_command_line_would(tmp_path):
    policy = load(tmp_path, 'input = "domains.csv"\nnameserver = ["1.1.1.1", "9.9.9.9"]\ntimeout = 2\n'
                            'keep = 90\nfail-on = "blocking"\nquiet = true\nhistory = "h/history.sqlite"\n'
                            'format = "html,xlsx"\n')
    assert policy.options == {
        "input": str(tmp_path / "domains.csv"), "nameserver": ["1.1.1.1", "9.9.9.9"], "timeout": 2.0, "keep": 90,
        "fail_on": "blocking", "quiet": True, "history": tmp_path / "h" / "history.sqlite", "format": ["html,xlsx"]}


@pytest.mark.parametrize("text, expected", [
    ("fail_on = 'warn'", "unknown key 'fail_on' (did you mean 'fail-on'?)"),
    ("colour = true", "unknown key 'colour'"),
    ("timeout = 'fast'", "timeout: 'fast' is not valid"),
    ("timeout = true", "timeout: must be a number, not true/false"),
    ("keep = 0", "keep: '0' is not valid: must be 1 or more"),
    ("fail-on = 'sometimes'", "fail-on: 'sometimes' is not one of warn, fail, blocking, never"),
    ("quiet = 'yes'", "quiet: must be true or false, not 'yes'"),
    ("nameserver = [1, 2]", "nameserver: must be a string, not 1"),
    ("config = 'other.toml'", "unknown key 'config'"),
    ("timeout = ", "not valid TOML"),
])
def test_a_mistake_is_one_line_naming_the_key_and_the_file(tmp_path, text, expected):
    assert expected in error(tmp_path, text)


def test_the_command_line_wins_over_the_file_and_replaces_its_lists(tmp_path):
    top, audit = parsers()
    policy = load(tmp_path, 'nameserver = ["1.1.1.1"]\ntimeout = 2\nfail-on = "blocking"\nquiet = true\n')
    argv = ["audit", "in.csv", "--nameserver", "9.9.9.9", "--fail-on", "warn"]
    parsed = top.parse_args(argv)
    args = merge(parsed, policy, given_on_command_line(top, audit, argv))
    assert parsed.timeout == 3.0 and not parsed.quiet  # a new namespace: the parsed one is left as it was
    assert (args.nameserver, args.fail_on, args.timeout, args.quiet, args.input) == (["9.9.9.9"], "warn", 2.0, True,
                                                                                      "in.csv")
    assert audit.get_default("timeout") == 3.0  # the parser is left as it was


def test_waivers_and_expectations(tmp_path):
    policy = load(tmp_path, """
[[waiver]]
check = "dmarc.*"
domain = "Bücher.example"
reason = "client decision, ticket 4711"
owner = "ops@msp.example"
expires = 2026-12-31

[[waiver]]
check = "mx.extra"
client = "Acme"
reason = "legacy relay until cutover"
expires = "2027-01-15"

[[expect]]
client = "Acme"
gateway = "Mimecast.com."
spf-include = ["_spf.salesforce.com"]
spf-forbid = "sendgrid.net"
dmarc-minimum = "quarantine"
cloud = "gcc-high"
phase = "hybrid"
""")
    first, second = policy.waivers
    assert (first.check, first.domain, first.expires, first.owner, first.source) == (
        "dmarc.*", "xn--bcher-kva.example", dt.date(2026, 12, 31), "ops@msp.example", "dnsaudit.toml, waiver 1")
    assert (second.client, second.expires) == ("Acme", dt.date(2027, 1, 15))
    (expect,) = policy.expectations
    assert (expect.gateway, expect.spf_include, expect.spf_forbid, expect.dmarc_minimum, expect.cloud,
            expect.phase) == ("mimecast.com", ("_spf.salesforce.com",), ("sendgrid.net",), "quarantine", "gcc-high",
                              "hybrid")
    assert 'client = "Acme"' in expect.quote() and "dnsaudit.toml, expect 1" in expect.quote()


@pytest.mark.parametrize("table, expected", [
    ('check = "x.y"\ndomain = "a.test"\nexpires = 2027-01-01', "waiver 1: 'reason' is required"),
    ('check = "x.y"\ndomain = "a.test"\nreason = "r"', "waiver 1: 'expires' is required (a waiver without an end"),
    ('check = "x.y"\nreason = "r"\nexpires = 2027-01-01', "waiver 1: give 'domain'"),
    ('check = "x.y"\ndomain = "a.test"\nreason = "r"\nexpires = "soon"', "waiver 1: expires: 'soon' is not a date"),
    ('check = "x.y"\ndomain = "a.test"\nreason = "r"\nexpires = 2027-01-01T10:00:00',
     "waiver 1: expires must be a date"),
    ('check = "x.y"\ndomain = "a.test"\nreason = 5\nexpires = 2027-01-01', "waiver 1: reason must be a string, not 5"),
    ('check = "x.y"\ndomian = "a.test"\nreason = "r"\nexpires = 2027-01-01',
     "waiver 1: unknown key 'domian' (did you mean 'domain'?)"),
    ('check = "x.y"\ndomain = "not a domain"\nreason = "r"\nexpires = 2027-01-01', "waiver 1: domain 'not a domain'"),
])
def test_a_waiver_needs_a_reason_an_end_and_whom_it_covers(tmp_path, table, expected):
    assert expected in error(tmp_path, "[[waiver]]\n" + table)


@pytest.mark.parametrize("table, expected", [
    ('gateway = "mimecast.com"', "expect 1: give 'client' or 'domain'"),
    ('client = "A"\ndmarc-minimum = "strict"', "expect 1: dmarc-minimum 'strict' is not one of none | quarantine"),
    ('client = "A"\ncloud = "azure"', "expect 1: cloud 'azure' is not one of worldwide"),
    ('client = "A"\nspf-include = [1]', "expect 1: spf-include must be a list of strings"),
    ('client = "A"\nspf-include = ["x.test"]\nspf-forbid = ["X.test"]', "in both spf-include and spf-forbid"),
])
def test_expectation_mistakes(tmp_path, table, expected):
    assert expected in error(tmp_path, "[[expect]]\n" + table)


def test_waivers_in_a_file_of_their_own(tmp_path):
    write(tmp_path, '[[waiver]]\ncheck = "spf.policy"\ndomain = "*"\nreason = "r"\nexpires = 2027-01-01\n',
          "waivers.toml")
    policy = load(tmp_path, 'waivers = "waivers.toml"\n')
    assert [w.source for w in policy.waivers] == ["waivers.toml, waiver 1"]
    write(tmp_path, 'timeout = 3\n', "waivers.toml")
    with pytest.raises(PolicyError, match=r"waivers\.toml: unknown key 'timeout'"):
        load(tmp_path, 'waivers = "waivers.toml"\n')


def test_a_missing_or_unreadable_file(tmp_path):
    specs = option_specs(parsers()[1])
    with pytest.raises(PolicyError, match="no such policy file"):
        load_policy(tmp_path / "nope.toml", specs)
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(tmp_path / "bin.toml", specs)
