"""A test-only hook that ends the process abruptly at a named point of a request.

`O2O_TEST_CRASH_AT=<point>:<marker file>` makes the first request to reach `<point>` call
`os._exit` — no cleanup, no response, no rollback: as a `kill -9` would — after creating the
marker file, so the restarted worker serves the retries. Unset (always, outside the fault
tests), `reached` does nothing. The points are named where they are reached:
`before_commit`, `after_commit` (o2o.services.idempotency) and `after_response`
(o2o.api.idempotency).
"""

from __future__ import annotations

import os

POINTS = ("before_commit", "after_commit", "after_response")
EXIT_STATUS = 70


def reached(point: str, setting: str | None) -> None:
    """End the process here if the setting names this point and its marker is not there."""
    if not setting:
        return
    wanted, _, marker = setting.partition(":")
    if wanted != point or not marker:
        return
    try:
        os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return  # crashed here once already
    os._exit(EXIT_STATUS)
