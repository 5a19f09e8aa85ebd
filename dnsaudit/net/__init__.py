"""Shared network clients (DNS now; HTTP and TLS later), one instance per run."""
