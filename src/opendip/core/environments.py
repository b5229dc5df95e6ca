"""Where a hosted environment's data lives, worked out from the primary's settings and the environment's name.

Each environment the hub hosts (opendip.environments) has a store of its own:
on SQLite a database file under `<data dir>/environments/<NAME>/`, on
PostgreSQL a schema of its own beside the primary's. Every command with
`--env` and the hub itself derive the same settings from here, so they
always agree on the store. All environments share the primary's certificate
authority and hub identity (one listener, one trust chain).
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import make_url

from opendip.config import Settings
from opendip.errors import DipError, Msg

NAME = re.compile(r"^[A-Z][A-Z0-9]{1,4}$")
SEARCH_PATH = re.compile(r"-csearch_path=([A-Za-z0-9_]+)")


def data_dir_of(primary: Settings, name: str) -> Path:
    return primary.data_dir / "environments" / name


def schema_of(url: str) -> str | None:
    """The PostgreSQL schema a URL selects through its search_path option, if any."""
    options = make_url(url).query.get("options")
    found = SEARCH_PATH.search(options if isinstance(options, str) else "")
    return found.group(1) if found else None


def store_url(primary: Settings, name: str) -> str:
    """The environment's store: a SQLite file in its directory, or a PostgreSQL schema of its own."""
    if primary.is_sqlite:
        return f"sqlite:///{(data_dir_of(primary, name) / 'opendip.db').resolve()}"
    url = make_url(primary.effective_database_url)
    schema = f"{schema_of(primary.effective_database_url) or 'opendip'}_env_{name.lower()}"
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def environment_settings(primary: Settings, name: str) -> Settings:
    """The primary's settings, for this environment: its tag, directory and store; the primary's PKI."""
    return primary.model_copy(
        update={
            "environment_tag": name,
            "data_dir": data_dir_of(primary, name),
            "database_url": store_url(primary, name),
            "pki_home": primary.pki_dir,
        }
    )


def hosted_settings(primary: Settings, name: str) -> Settings:
    """The settings of an environment `opendip env create` made (its directory exists from then on)."""
    name = name.upper()
    if name == primary.environment_tag:
        return primary
    if not NAME.match(name) or not data_dir_of(primary, name).is_dir():
        raise DipError(Msg.NOT_FOUND, f"$.environment: this hub hosts no environment {name} (see `opendip env list`)")
    return environment_settings(primary, name)
