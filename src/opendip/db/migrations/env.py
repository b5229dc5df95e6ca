"""Alembic environment: runs against the engine the hub hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

# Every domain declares its tables in its own tables.py on the one Base; importing
# them here gives Alembic the whole schema.
from opendip.accounts import tables as _accounts  # noqa: F401
from opendip.core import tables as _core  # noqa: F401
from opendip.db.models import Base
from opendip.delivery import tables as _delivery  # noqa: F401
from opendip.environments import tables as _environments  # noqa: F401
from opendip.governance import tables as _governance  # noqa: F401
from opendip.messages import tables as _messages  # noqa: F401
from opendip.ops import tables as _ops  # noqa: F401
from opendip.participants import tables as _participants  # noqa: F401
from opendip.pki import tables as _pki  # noqa: F401
from opendip.replay import tables as _replay  # noqa: F401
from opendip.status import tables as _status  # noqa: F401
from opendip.tracking import tables as _tracking  # noqa: F401

config = context.config
engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url") or "")

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
