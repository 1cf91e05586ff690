"""The flow server's own refusals."""
from __future__ import annotations


class BadRequest(ValueError):
    """A request OneFlow would refuse with 400 (malformed, or wrong for the state)."""
