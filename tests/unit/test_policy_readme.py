"""The README's complete policy-file example is a file dnsaudit reads, with the real parser's options."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from dnsaudit.cli.parser import build_parser
from dnsaudit.cli.policy_file import STRING_PATHS, _subparser, option_specs
from dnsaudit.policy import load_policy

README = Path(__file__).parents[2] / "README.md"


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## The policy file (dnsaudit.toml)", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```toml\n(.*?)```", section, re.S)
    return block


def test_the_readme_example_loads(tmp_path):
    path = tmp_path / "dnsaudit.toml"
    path.write_text(readme_example(), encoding="utf-8")
    specs = option_specs(_subparser(build_parser(), "audit"), extra_paths=STRING_PATHS)
    policy = load_policy(path, specs)
    assert policy.options["input"] == str(tmp_path / "domains.csv")
    assert (policy.options["compare"], policy.options["keep"], policy.options["fail_on"], policy.options["quiet"],
            policy.options["split_by"]) == ("last", 90, "blocking", True, "client")
    assert policy.options["notify"][0] == "json://alerts.example.net/hooks/dnsaudit"
    assert [(w.check, w.domain, w.client, w.expires) for w in policy.waivers] == [
        ("mx.extra", "contoso.com", "", dt.date(2027, 3, 31)), ("dmarc.*", "", "Fabrikam", dt.date(2027, 1, 31))]
    acme, gov = policy.expectations
    assert (acme.client, acme.gateway, acme.spf_include, acme.spf_forbid, acme.dmarc_minimum) == (
        "Acme", "mimecast.com", ("_spf.salesforce.com",), ("sendgrid.net",), "quarantine")
    assert (gov.domain, gov.cloud, gov.phase) == ("*.acme-gov.example", "gcc-high", "hybrid")


def test_every_audit_option_is_a_key_of_the_file():
    specs = option_specs(_subparser(build_parser(), "audit"), extra_paths=STRING_PATHS)
    assert {"input", "nameserver", "fail-on", "format", "split-by", "keep", "compare", "notify", "workers",
            "no-probes", "zone"} <= set(specs)
    assert "config" not in specs and "no-config" not in specs and "help" not in specs
    assert specs["workers"].numeric and specs["zone"].path and specs["zone"].kind == "list"
