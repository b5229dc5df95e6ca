"""Alembic environment: runs against the engine the hub hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from opendip.accounts import tables as _accounts_tables  # noqa: F401  (issue 5: registers its tables)
from opendip.db.models import Base
from opendip.participants import tables as _participants_tables  # noqa: F401  (issue 5)
from opendip.pki import tables as _pki_tables  # noqa: F401  (issue 5)
from opendip.replay import tables as _replay_tables  # noqa: F401  (issue 6: registers its tables)
from opendip.status import tables as _status_tables  # noqa: F401  (issue 6: registers its tables)

config = context.config
engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url") or "")

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
