"""The words around the options: the command's description, the audit's epilog (input
columns, examples, exit codes) and the three-line usage error of every parser."""

from __future__ import annotations

import argparse
from typing import NoReturn

from dnsaudit.cli.exits import EXIT_USAGE

DESCRIPTION = """\
Audit domains for Microsoft 365 (Exchange Online) mail readiness: MX, autodiscover and
more, per domain, with a score and a verdict.
"""

AUDIT_EPILOG = """\
input columns:
  domain (required; also Domain, DomainName, Domain Name, or a header-less single column),
  relay_ips, relay_cert_host, cloud (worldwide | gcc-high | dod | china),
  phase (pre-migration | hybrid | cloud; default cloud), tenant, client, notes, gateway.
  See domains.example.csv.

examples:
  dnsaudit audit domains.csv
  dnsaudit audit domains.xlsx --sheet Domains --out reports/acme
  dnsaudit audit domains.csv --nameserver 1.1.1.1 --nameserver 9.9.9.9 --checks 'mx.*'
  dnsaudit audit domains.csv --fail-on blocking --quiet     # for cron: exit 1 on blockers
  dnsaudit audit msp-10000.csv --workers 4 --concurrency 200 # big list, fast resolver, 4 cores

exit codes: 0 ok, 1 results at the --fail-on level, 2 usage or input error,
            3 could not test (no DNS answer, or checks that could not test);
            with --compare: 0 no change, 4 changed but not worse, 5 regressed, 6 history unusable;
            130 interrupted (finished domains stay in the history)

for cron (drift detection; prints only what changed, exit 5 when something got worse):
  dnsaudit audit /srv/audit/domains.csv --compare last --quiet --keep 90
  dnsaudit audit --config /srv/audit/dnsaudit.toml     # the same, written once in a policy file

policy file (dnsaudit.toml; see the README for a complete example):
  input = "domains.csv"          # any option by its long name; paths relative to the file
  compare = "last"
  notify = ["json://alerts.example.net/dnsaudit"]
  [[waiver]]                     # an accepted problem: counts against nothing until it expires
  check = "mx.extra"
  domain = "contoso.com"
  reason = "legacy relay until the cutover"
  expires = 2027-03-31
  [[expect]]                     # a client's decisions, checked by policy.expectations
  client = "Acme"
  gateway = "mimecast.com"
"""


class Parser(argparse.ArgumentParser):
    """argparse whose errors take three lines, not the whole usage: the command's one-line usage,
    the error, and where the help is. The subcommands' parsers are of this class too."""

    commands: dict[str, argparse.ArgumentParser]

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"usage: {self.short_usage()}\ndnsaudit: error: {message}\n"
                              f"see '{self.prog} --help'\n")

    def short_usage(self) -> str:
        """``dnsaudit audit INPUT [options]``: the positionals as --help shows them, the options summed up."""
        formatter = self._get_formatter()
        words = [self.prog]
        for action in self._get_positional_actions():
            if isinstance(action, argparse._SubParsersAction):
                words.append(action.metavar if isinstance(action.metavar, str) and action.metavar else "COMMAND")
            else:
                words.append(formatter._format_args(action, formatter._get_default_metavar_for_positional(action)))
        return " ".join([*words, "[options]"])
