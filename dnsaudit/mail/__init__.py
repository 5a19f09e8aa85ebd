"""Mail knowledge shared by the checks: Microsoft 365 cloud profiles, SPF (parse, evaluate,
include tree), DMARC parsing, MX host lists.

This layer knows nothing of the check API (``dnsaudit.check``), so any check, a report or a
library user can import it, and no check has to import another check for a helper.
"""
