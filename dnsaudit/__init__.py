"""dnsaudit: is each domain ready for Microsoft 365 mail, and has anything drifted?"""

__version__ = "0.1.0"
