"""The cyclic garbage collector paused while a process makes what it keeps for its whole life.

Importing the CLI (and, for `opendip up`, the whole application) allocates a few hundred thousand
objects that live as long as the process: modules, classes, tables, compiled statements. While they
are being made the collector runs again and again over a heap that is only growing, for nothing it
can free: about a fifth of the import's CPU. The test suite starts a few hundred hubs and commands, and
an operator's `opendip` answers sooner. The collector runs as usual once the command's code runs.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused(*, freeze: bool = False) -> Iterator[None]:
    """No cyclic collection inside; `freeze`: what was made is kept out of every later collection too."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()  # long-lived start-up objects: later collections need not walk them again
        if was_enabled:
            gc.enable()
