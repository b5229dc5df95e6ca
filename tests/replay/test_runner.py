"""The requeue job against a real database: exact copies, snapshot bound, competing runners, settling."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, update

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.db.models import deliveries, journal
from opendip.replay.filters import ReplayFilter
from opendip.replay.runner import RequeueRunner
from opendip.replay.service import ReplayService, RequeueRunning, RequeueService, Scope
from opendip.replay.tables import requeue_items, requeues
from tests.delivery.seed import add_messages

SUP = "2300000900"


@pytest.fixture
def db(migrated_db: Database) -> Database:
    return migrated_db


def scalar(db: Database, query: object) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())  # type: ignore[call-overload]


def mark_originals_delivered(db: Database) -> None:
    with db.begin() as conn:
        conn.execute(update(deliveries).values(state="delivered", last_http_status=201))


def test_competing_runners_copy_each_message_exactly_once(db: Database, db_url: str) -> None:
    sent = add_messages(db, SUP, 230)
    mark_originals_delivered(db)
    scope = Scope("channel", SUP, ("IF-043",))
    requeue_id = RequeueService(db).start(scope, ReplayFilter())
    late = add_messages(db, SUP, 5)  # after the snapshot: not part of this requeue
    mark_originals_delivered(db)

    with pytest.raises(RequeueRunning) as busy:
        RequeueService(db).start(scope, ReplayFilter(mpans=("2000056535972",)))
    assert busy.value.running_id == requeue_id and busy.value.http_status == 429

    other = Database.from_url(db_url)  # a second worker process, with its own pool
    runners = [RequeueRunner(db, chunk=7), RequeueRunner(other, chunk=11)]
    errors: list[BaseException] = []

    def drain(runner: RequeueRunner) -> None:
        try:
            while runner.enqueue_chunk(requeue_id) or scalar(db, select(requeues.c.cursor_id < requeues.c.upto_id)):
                pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    other.dispose()
    assert errors == []

    copies = select(deliveries.c.transaction_id).where(deliveries.c.replay.is_(True))
    with db.engine.connect() as conn:
        copied = [r[0] for r in conn.execute(copies.order_by(deliveries.c.id))]
        requeued = conn.execute(
            select(func.count()).select_from(journal).where(journal.c.status == "Requeued")
        ).scalar_one()
        items = conn.execute(select(func.count()).select_from(requeue_items)).scalar_one()
        job = conn.execute(select(requeues)).one()
    assert sorted(copied) == sorted(sent), "every message in the snapshot once, nothing after it"
    assert not set(copied) & set(late)
    assert requeued == items == job.enqueued == job.total == len(sent)


def test_a_finished_requeue_settles_with_counts_and_frees_the_recipient(db: Database) -> None:
    add_messages(db, SUP, 12)
    mark_originals_delivered(db)
    scope = Scope("channel", SUP, ("IF-043",))
    service = RequeueService(db)
    requeue_id = service.start(scope, ReplayFilter())
    runner = RequeueRunner(db, chunk=5)
    while runner.enqueue_chunk(requeue_id):
        pass
    assert runner.enqueue_chunk(requeue_id) is False
    progress = service.status(scope, requeue_id)
    assert (progress.status, progress.total, progress.processed, progress.percent) == ("Processing", 12, 0, 0.0)

    with db.begin() as conn:
        ids = [r[0] for r in conn.execute(select(deliveries.c.id).where(deliveries.c.replay.is_(True)))]
        conn.execute(update(deliveries).where(deliveries.c.id.in_(ids[:9])).values(state="delivered"))
        conn.execute(update(deliveries).where(deliveries.c.id.in_(ids[9:11])).values(state="exhausted"))
    assert service.status(scope, requeue_id).as_json()["percentComplete"] == round(100 * 11 / 12, 2)
    runner.run_once()
    assert service.status(scope, requeue_id).status == "Processing"  # one is still pending

    with db.begin() as conn:
        conn.execute(update(deliveries).where(deliveries.c.id == ids[11]).values(state="delivered"))
    runner._settled_at.clear()
    runner.run_once()
    final = service.status(scope, None).as_json()
    assert final | {"requeueId": requeue_id, "status": "PartialCompletion", "totalTransactions": 12} == final
    assert (final["deliveredTransactions"], final["failedTransactions"]) == (10, 2)
    assert service.start(scope, ReplayFilter(states=("exhausted",))) != requeue_id  # the recipient is free again


def test_a_requeue_with_nothing_to_do_is_complete_at_once(db: Database) -> None:
    add_messages(db, SUP, 3)
    scope = Scope("channel", SUP, ("IF-043",))
    service = RequeueService(db)
    requeue_id = service.start(scope, ReplayFilter(http_statuses=(503,)))
    assert service.status(scope, requeue_id).as_json()["status"] == "Completed"
    assert service.start(scope, ReplayFilter()) != requeue_id


def test_replay_pages_follow_the_snapshot(db: Database) -> None:
    sent = add_messages(db, SUP, 9)
    replay = ReplayService(db, Settings(replay_page_size=4), b"k" * 32)
    scope = Scope("channel", SUP, ("IF-043",))
    first = replay.page(scope, ReplayFilter(), None)
    add_messages(db, SUP, 3)
    assert (first.count, first.http_status) == (4, 206)
    second = replay.page(scope, ReplayFilter(), first.token)
    third = replay.page(scope, ReplayFilter(), second.token)
    assert (second.count, third.count, third.http_status, third.token) == (4, 1, 200, None)
    assert sent[8].encode() in third.body
