"""Errors that decide what happens to an event."""


class PermanentError(Exception):
    """An error that no retry can fix; the event goes straight to the dead letters."""


__all__ = ["PermanentError"]
