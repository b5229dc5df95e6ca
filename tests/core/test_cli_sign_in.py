"""What `make run` says about signing in, on the first run and on every run after it."""

from __future__ import annotations

from pathlib import Path

from opendip.core.cli import sign_in_line


def test_the_first_run_shows_the_password_once_and_later_runs_say_how_to_reset_it() -> None:
    first = sign_in_line("operator", "s3cret-once", Path("/srv/hub"))
    assert "s3cret-once" in first and "shown this once" in first
    later = sign_in_line("operator", None, Path("/srv/hub"))
    assert "s3cret" not in later and "opendip user update operator --password --data-dir /srv/hub" in later
