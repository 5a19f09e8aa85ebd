"""Shared fixtures: a real DNS server on 127.0.0.1 serving tests/zones plus the check cases.

Nothing here reaches past loopback: pytest-socket (configured in pyproject.toml) refuses
any connection to another host, and every client is pointed at the server below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dnsaudit.testing import case_server, load_cases

TESTS = Path(__file__).parent
CASES = load_cases(TESTS / "checks" / "cases.toml")


@pytest.fixture(scope="session", autouse=True)
def private_data_home(tmp_path_factory):
    """Runs during the tests keep their history in a temporary folder, never in the user's."""
    import os

    old = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("data-home"))
    yield
    if old is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = old


@pytest.fixture(scope="session")
def dns_server():
    """The test resolver: shared zones and every case's zone, with the cases' faults."""
    with case_server(CASES, TESTS / "zones") as server:
        yield server


@pytest.fixture
def nameserver(dns_server) -> str:
    return f"127.0.0.1:{dns_server.port}"


def pytest_generate_tests(metafunc):
    """Any test that asks for ``case`` runs once per case in checks/cases.toml."""
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", CASES, ids=[c["name"] for c in CASES])


@pytest.fixture(scope="session")
def all_cases() -> list[dict]:
    return CASES


@pytest.fixture
def swallow():
    """``swallow(exc)`` raises ``exc`` in a weakref callback, as SIGINT's handler can: CPython only
    reports it as unraisable ("Exception ignored in ...") and goes on (see dnsaudit.sigint)."""
    import weakref

    class Target:
        pass

    def swallowed(exc: BaseException) -> None:
        def callback(_ref: object) -> None:
            raise exc

        target = Target()
        ref = weakref.ref(target, callback)
        del target
        assert ref() is None

    return swallowed
