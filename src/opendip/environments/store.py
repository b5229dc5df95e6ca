"""An environment's store: its PostgreSQL schema made or dropped, its messages wiped on a reset.

Where the store is (file or schema) is worked out in opendip.core.environments.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, table, text

from opendip.core.environments import schema_of

# What a reset wipes: every message and what hangs off one (children first). Participants,
# keys, certificates, webhooks, organisations and accounts stay.
MESSAGE_TABLES = (
    "hour_counts",
    "requeue_items",
    "requeues",
    "status_alerts",
    "delivery_attempts",
    "status_deliveries",
    "status_messages",
    "content_duplicates",
    "deliveries",
    "journal",
    "messages",
    "message_keys",  # a message's keys (migration 0022): its references may be sent again after a reset
    "sender_references",
)


def ensure_schema(conn: Connection, url: str) -> None:
    """PostgreSQL: create the environment's schema (the search_path of its URL) if it is not there.

    `conn` is the primary store's, in the caller's transaction.
    """
    schema = schema_of(url)
    if conn.dialect.name == "postgresql" and schema:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))


def drop_schema(conn: Connection, url: str) -> None:
    """PostgreSQL: drop the environment's schema and all in it (`conn`: the primary store's)."""
    schema = schema_of(url)
    if conn.dialect.name == "postgresql" and schema:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def wipe_messages(conn: Connection) -> dict[str, int]:
    """Delete every message and everything hanging off one; how many rows went from each table."""
    removed: dict[str, int] = {}
    for name in MESSAGE_TABLES:  # names from the constant above, never from input
        removed[name] = conn.execute(delete(table(name))).rowcount or 0
    return removed
