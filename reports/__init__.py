"""Built-in report writers, one module per format. Installed as ``dnsaudit.reports``.

A writer renders an AuditRun and nothing else: it never queries the network and never
recomputes a verdict. Writers are registered in the ``dnsaudit.reports`` entry-point
group, named by format.
"""
