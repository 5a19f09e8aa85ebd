"""Built-in checks, one module per area. Installed as ``dnsaudit.checks``.

They are registered through the ``dnsaudit.checks`` entry-point group in pyproject.toml,
the same path a third-party plugin takes; nothing here is imported by name elsewhere.
"""
