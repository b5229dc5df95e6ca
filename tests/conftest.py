"""Shared fixtures: databases (SQLite and PostgreSQL), the hub as a real process, webhook receivers."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.pki.authority import CertificateAuthority
from opendip.pki.trust import TrustStore
from tests.helpers.databases import database_url, postgres_available
from tests.helpers.hub import HubProcess
from tests.helpers.receivers import ThreadedReceiver

# the portal's shared market (tests/portal and tests/e2e) and one chromium per module for the browser tests
pytest_plugins = ("tests.portal.fixtures", "tests.helpers.browser")


STORES = ("sqlite", "postgres")


# Modules whose tests use the portal's session-scoped shared market (`world`): they run on one worker per store.
_WORLD_USE = re.compile(r"def \w+\([^)]*\bworld\b", re.S)


@cache
def _world_modules() -> frozenset[str]:
    here = Path(__file__).parent
    found = set()
    for path in here.rglob("test_*.py"):
        source = path.read_text(encoding="utf-8")
        if _WORLD_USE.search(source) and "tests.simulator.world" not in source:  # the simulator has a world of its own
            found.add(path)
    return frozenset(str(p.relative_to(here.parent)) for p in found)


def group_of(nodeid: str) -> str:
    """Which tests share a worker under `--dist loadgroup`, so a slow shared fixture is built once.

    The shared portal market (session-scoped `world`) is one group per store; otherwise a module's
    tests stay together (its module-scoped hubs start once), split by store so both halves run at once.
    """
    module, _, rest = nodeid.partition("::")
    params = rest[rest.index("[") + 1 : -1].split("-") if rest.endswith("]") and "[" in rest else []
    store = next((part for part in params if part in STORES), None)
    if module in _world_modules():
        return f"portal-world-{store}"
    return f"{module}-{store}" if store else module


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup` by our groups, worked out from each test's ID.

    pytest-xdist's own loadgroup renames each item's `_nodeid` to carry its group, which pytest 9
    no longer reads (a node's ID is its `_id`): every test became its own group and each worker
    started its own copy of every module's hubs. Scheduling by scope with our own split needs no marks.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def __init__(self, config: pytest.Config, log: Any) -> None:
            super().__init__(config, log)
            self.workqueue = CostliestFirst()

        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    return ByGroup(config, log)


# Groups that start processes (hubs, workers, markets) take minutes, not seconds: they go out first, so the
# run does not end with one worker on a long group while the others idle. xdist would go by test count.
SLOW_FIRST = (
    "portal-world-",
    "tests/e2e/",
    "tests/simulator/",
    "tests/environments/",
    "tests/scenarios/",
    "tests/delivery/test_worker_processes.py",
    "tests/tracking/test_tracking_scenario_run.py",
)


def _rank(group: str) -> int:
    return next((rank for rank, start in enumerate(SLOW_FIRST) if group.startswith(start)), len(SLOW_FIRST))


class CostliestFirst(OrderedDict[str, Any]):
    """xdist's queue of groups, handing out the slow kinds first (each kind in xdist's own order)."""

    def popitem(self, last: bool = True) -> tuple[str, Any]:
        if last:
            return super().popitem(last=True)
        group = min(self, key=_rank)  # min keeps the first of equal rank
        return group, self.pop(group)


def pytest_report_header(config: pytest.Config) -> str:
    if postgres_available():
        return "PostgreSQL: 127.0.0.1:5432 answers; PostgreSQL tests will run"
    return "PostgreSQL: NOT AVAILABLE at 127.0.0.1:5432 -- every PostgreSQL test will be SKIPPED"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def migrated_db(db_url: str) -> Iterator[Database]:
    """The store of `db_url` (each engine in turn) migrated to head, disposed afterwards."""
    database = Database.from_url(db_url)
    upgrade(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def hub(tmp_path: Path, db_url: str) -> Iterator[HubProcess]:
    """A hub process (not yet started, so tests can register participants first)."""
    process = HubProcess(tmp_path / "data", db_url)
    yield process
    process.close()


@pytest.fixture
def hub_trust(hub: HubProcess) -> TrustStore:
    ca = CertificateAuthority.init(hub.settings.pki_dir)
    return TrustStore.from_pem_files([ca.ca_path])


@pytest.fixture
def receiver_factory(hub_trust: TrustStore) -> Iterator[type]:
    made: list[ThreadedReceiver] = []

    def make() -> ThreadedReceiver:
        r = ThreadedReceiver(hub_trust)
        made.append(r)
        return r

    yield make  # type: ignore[misc]
    for r in made:
        r.close()
