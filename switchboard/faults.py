"""Faults of the machine rather than of the data: a full disk, a read-only file system, a
permission denied. The command line reports them in one line (what and where), because
the exception that reaches it is rarely the one that says so: DuckDB reports a full disk
as a failed commit, and a transaction's rollback, failing in turn, hides the original
error in its ``__context__``. So the whole chain is searched, the root cause first.
"""

from __future__ import annotations

import errno
import re
from dataclasses import dataclass

# errno → what a person reads, and what to do about it.
_ERRNO_REASONS: dict[int, str] = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}
# The same faults as DuckDB (and dbt, quoting DuckDB) spell them in their messages.
_MESSAGE_REASONS: tuple[tuple[str, str], ...] = (
    ("no space left on device", "no space left on device"),
    ("disk quota exceeded", "disk quota exceeded"),
    ("read-only file system", "read-only file system"),
    ("permission denied", "permission denied"),
)
_ADVICE = {
    "no space left on device": "free some space there and run again",
    "disk quota exceeded": "free some space there and run again",
    "read-only file system": "mount it read-write or point the command elsewhere",
    "permission denied": "give this user write access or point the command elsewhere",
}
# An absolute path in quotes: how DuckDB names the file it could not write.
_QUOTED_PATH = re.compile(r"""["'](/[^"']+)["']""")


@dataclass(frozen=True)
class InfrastructureFault:
    """The root cause of a failure that no input or setting caused."""

    reason: str  # one of the values of _ERRNO_REASONS
    path: str | None
    detail: str  # the original message, for when no path could be found

    def line(self) -> str:
        """One line: the cause, the path, what to do (no traceback)."""
        if self.reason in ("no space left on device", "disk quota exceeded"):
            where = f" writing {self.path}" if self.path else f" ({self.detail})"
            head = f"{self.reason}{where}"
        else:
            head = f"{self.reason}: {self.path}" if self.path else f"{self.reason} ({self.detail})"
        return f"{head}; {_ADVICE[self.reason]}"


def exception_chain(error: BaseException) -> list[BaseException]:
    """The error, then what caused it (``__cause__``, else ``__context__``), outermost
    first. Contexts hidden with ``raise … from None`` are followed too: the point is the
    root cause, not the message a caller chose to show."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _classify(error: BaseException) -> InfrastructureFault | None:
    if isinstance(error, OSError) and error.errno in _ERRNO_REASONS:
        path = error.filename if error.filename is not None else error.filename2
        return InfrastructureFault(
            reason=_ERRNO_REASONS[error.errno],
            path=str(path) if path is not None else None,
            detail=error.strerror or str(error),
        )
    text = str(error)
    lowered = text.lower()
    for needle, reason in _MESSAGE_REASONS:
        if needle in lowered:
            match = _QUOTED_PATH.search(text)
            return InfrastructureFault(
                reason=reason,
                path=match.group(1) if match else None,
                detail=text.strip().splitlines()[0] if text else reason,
            )
    return None


def infrastructure_fault(error: BaseException) -> InfrastructureFault | None:
    """The deepest exception in ``error``'s chain that is a full disk, a read-only file
    system or a permission denied, or None when the failure is something else."""
    for link in reversed(exception_chain(error)):
        fault = _classify(link)
        if fault is not None:
            return fault
    return None
