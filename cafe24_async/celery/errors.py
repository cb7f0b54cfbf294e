"""Why a partition or a run on Celery could not go on, as library errors.

Celery, kombu and redis-py raise their own exception types; none of them leaves
this package. A broker that cannot be reached is a `BrokerUnavailableError` (a
`Cafe24ConnectionError`, like an unreachable Redis), a run that did not finish
in time a `RunTimeoutError`, and a partition whose lock another live worker
holds a `PartitionBusyError` (that worker is still on it: the task waits, then
goes back on the queue).
"""

from __future__ import annotations

from cafe24_async.errors import Cafe24ConnectionError, Cafe24Error, ConfigurationError
from cafe24_async.export.errors import ExportError

INSTALL_HINT = "install the extra: pip install 'cafe24-async[celery]'"


class CeleryMissingError(ConfigurationError):
    """Celery is not installed (the `celery` extra)."""

    def __init__(self) -> None:
        super().__init__(f"running partitions on Celery needs Celery: {INSTALL_HINT}")


class BrokerUnavailableError(Cafe24ConnectionError):
    """The Celery broker or result backend could not be reached."""

    def __init__(self, doing: str, cause: BaseException) -> None:
        self.doing = doing
        super().__init__(f"the Celery broker is unreachable ({doing}): {type(cause).__name__}: {cause}")


class RunTimeoutError(Cafe24Error, TimeoutError):
    """A run's partitions did not all finish within the time waited for them."""

    def __init__(self, waited: float, done: int, total: int) -> None:
        self.waited = waited
        self.done = done
        self.total = total
        super().__init__(f"{done} of {total} partitions finished within {waited:g}s")


class PartitionBusyError(ExportError):
    """Another live process holds the partition (a duplicate delivery of its task)."""

    def __init__(self, key: str, holder: int | None, waited: float) -> None:
        self.key = key
        self.holder = holder
        self.waited = waited
        who = f"PID {holder}" if holder is not None else "another process"
        super().__init__(f"partition {key} is being run by {who} (waited {waited:g}s)")
