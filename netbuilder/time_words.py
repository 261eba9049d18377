"""How long something took or has left, as a progress line says it: the window's and the terminal's alike."""

from __future__ import annotations


def duration(seconds: float) -> str:
    """1:05, or 1:02:03 past an hour."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"
