from tests.participants.support import store

__all__ = ["store"]
