"""Cafe24's API versions (`X-Cafe24-Api-Version: YYYY-MM-DD`): the releases known so far.

Source: Cafe24's API release notes. Releases have come quarterly; a version stays
valid for one year after the newest release, and after that the oldest valid
version is used silently (an invalid or expired version pinned by a call gets a
400 naming the server's default). Adding a release is adding a row here.
"""

from __future__ import annotations

from datetime import date

RELEASES: tuple[str, ...] = (
    "2025-03-01",
    "2025-06-01",
    "2025-09-01",
    "2025-12-01",
    "2026-03-01",
    "2026-09-01",
)

#: How long a version stays valid after the newest release, in days.
VALID_DAYS = 365


def oldest_valid(releases: tuple[str, ...] = RELEASES) -> date:
    """The oldest version date still valid: one year before the newest release."""
    newest = date.fromisoformat(max(releases))
    return date.fromordinal(newest.toordinal() - VALID_DAYS)


def is_stale(version: str, releases: tuple[str, ...] = RELEASES) -> bool:
    """True when `version` is older than one year before the newest known release."""
    return date.fromisoformat(version) < oldest_valid(releases)
