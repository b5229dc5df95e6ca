"""Replay and requeue of a range reaching purged days answer MSG4080, whichever bound reaches them (both stores).

Real retention (archive, then purge) runs in process on old messages; the replay and requeue services
then answer filters parsed from request bodies as the routes parse them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import update

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.db.models import deliveries
from opendip.errors import DipError, Msg
from opendip.ops.retention import RetentionService
from opendip.ops.retention_kinds import KINDS
from opendip.replay.filters import parse_filter
from opendip.replay.service import ReplayService, RequeueService, Scope
from tests.delivery.seed import add_messages

SUP = "2300000900"
DAY = 86_400.0
NOW = time.time()
SCOPE = Scope("channel", SUP, ("IF-043",))


@pytest.fixture
def purged(db_url: str, tmp_path: Path) -> Iterator[tuple[Database, Settings, str]]:
    """Messages 60 and 50 days old archived and purged (cutoff 40 days), younger ones 10 days old kept."""
    db = Database.from_url(db_url)
    upgrade(db.engine)
    add_messages(db, SUP, 3, received_at=NOW - 60 * DAY)
    add_messages(db, SUP, 3, received_at=NOW - 50 * DAY)
    add_messages(db, SUP, 4, received_at=NOW - 10 * DAY)
    with db.begin() as conn:
        conn.execute(update(deliveries).values(state="delivered", last_http_status=201))
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url)
    result = RetentionService(settings, db).run_kind(KINDS["messages"], NOW - 40 * DAY)
    assert result.purged == 6 and len(result.archives) == 1
    yield db, settings, result.archives[0]
    db.dispose()


def body(**bounds: float) -> bytes:
    return orjson.dumps({key: stamp(at) for key, at in bounds.items()})


def stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def answer(db: Database, settings: Settings, request: bytes) -> int | DipError:
    """The first replay page's item count, or the DIP error it was refused with (requeue must agree)."""
    f = parse_filter(request)
    try:
        count = ReplayService(db, settings, b"key").page(SCOPE, f, None).count
    except DipError as refused:
        with pytest.raises(DipError) as again:
            RequeueService(db).start(SCOPE, f)
        assert again.value.msg is refused.msg and str(again.value) == str(refused)
        return refused
    assert RequeueService(db).start(SCOPE, f).startswith("RQ-")  # requeue is not refused either
    return count


@pytest.mark.parametrize(
    ("bounds", "field"),
    [
        ({"datetimeFrom": NOW - 55 * DAY}, "$.datetimeFrom"),  # the start in purged days (refused before too)
        ({"datetimeTo": NOW - 45 * DAY}, "$.datetimeTo"),  # only an end, inside the purged days
        ({"datetimeTo": NOW - 5 * DAY}, "$.datetimeTo"),  # only an end, after the floor: still reaches them
        ({"datetimeFrom": NOW - 70 * DAY, "datetimeTo": NOW - 58 * DAY}, "$.datetimeFrom"),  # wholly purged
    ],
)
def test_a_range_reaching_purged_days_is_refused_naming_the_archive(purged, bounds, field) -> None:
    db, settings, archive = purged
    refused = answer(db, settings, body(**bounds))
    assert isinstance(refused, DipError), f"answered {refused} items instead of MSG4080"
    assert refused.msg is Msg.RANGE_PURGED and refused.http_status == 410
    assert refused.detail.startswith(field) and archive in str(refused)


@pytest.mark.parametrize(
    ("bounds", "items"),
    [
        ({}, 4),  # no period named: what is stored
        ({"datetimeFrom": NOW - 20 * DAY}, 4),  # wholly after the floor
        ({"datetimeFrom": NOW - 20 * DAY, "datetimeTo": NOW - 5 * DAY}, 4),
        ({"datetimeTo": NOW - 70 * DAY}, 0),  # before anything was ever stored: nothing purged there
        ({"datetimeFrom": NOW - 45 * DAY, "datetimeTo": NOW - 41 * DAY}, 0),  # purged era, but no archive holds it
    ],
)
def test_a_range_clear_of_purged_messages_is_answered_from_the_store(purged, bounds, items) -> None:
    db, settings, _ = purged
    assert answer(db, settings, body(**bounds)) == items
