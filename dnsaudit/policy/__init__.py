"""The policy file of a recurring audit (``dnsaudit.toml``).

One TOML file holds what a team decided once instead of on every command line: the
``audit`` options by their long names, the waivers (problems someone accepted, with a
reason, an owner and an end date) and the per-client expectations (the gateway, SPF
includes and DMARC policy a client chose). Each part is a small module:

* ``file``: reading and validating the TOML, one error line naming the key and the file;
* (the ``audit`` options of the file go under the command line's in ``dnsaudit.cli.policy_file``);
* ``waivers``: marking results as waived between the checks and scoring;
* ``expectations``: which expectation applies to a domain, and the input defaults it gives.
"""

from __future__ import annotations

from dnsaudit.policy.expectations import Expectation
from dnsaudit.policy.file import Policy, PolicyError, load_policy
from dnsaudit.policy.waivers import Waiver, apply_waivers

__all__ = ["Expectation", "Policy", "PolicyError", "Waiver", "apply_waivers", "load_policy"]
