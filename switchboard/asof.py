"""The time a run acts at (its as-of), read from an option and checked against the clock
and the export before anything is decided.

A run's as-of decides who is available, which records are new and what the workload index
counts. A typo in it (a wrong year, a date decades away from the data) used to be accepted
silently, and an export replayed at the wrong time can move a book. So:

* an option that is not an ISO 8601 date or time stops the command in one line that names
  the option and shows the accepted format, before Prefect or dbt start;
* an as-of more than ``FUTURE_TOLERANCE`` ahead of the clock stops the run (the CLI checks it
  before anything starts; ``pipeline.make_context`` checks it for every other caller);
* an as-of earlier than the export stops the run after ingest, before dbt: an account or
  lead created more than ``CREATED_AFTER_TOLERANCE`` after the as-of means the as-of is not
  the export's. Some lateness is normal: an arrivals pass fixes its as-of and then reads
  the export, which by then lists records created seconds or minutes later.

``--allow-backdated`` lifts both bounds for a run that deliberately acts at another time
(replaying an old export, a test at a fixed date). A departure's ``--effective`` time is
only checked against the clock: a leaver effective yesterday, handled with today's export,
is normal.

Standard library only: the CLI imports this before anything heavy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# How far ahead of the clock an as-of may be: a run scheduled in another time zone, or a
# clock a little ahead, is fine; a day is a typo.
FUTURE_TOLERANCE = timedelta(days=1)
# How long after the as-of an exported record may have been created. An arrivals pass reads
# the export after it fixed its as-of (seconds to minutes); a day is a replay at the wrong
# time, or an export from another day.
CREATED_AFTER_TOLERANCE = timedelta(days=1)

EXAMPLES = "e.g. 2026-11-23T09:00:00 (UTC) or 2026-11-23T10:00:00+01:00 or 2026-11-23"


class AsOfError(ValueError):
    """A time option that is not a date or time, or an as-of the clock or the export
    contradicts. The message is one line naming the option."""


def utc_now() -> datetime:
    """Now, naive UTC to the second (the warehouse's timestamps are naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def parse_time(value: str | datetime, option: str = "--as-of") -> datetime:
    """ISO 8601 date or date-time (no offset = UTC), returned naive UTC.

    Raises AsOfError naming ``option`` and the accepted format for anything else.
    """
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise AsOfError(
                f"{option} {text!r} is not a date or time: use ISO 8601, {EXAMPLES}"
            ) from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _shown(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="seconds")


def check_not_future(
    as_of: datetime, *, option: str = "--as-of", now: datetime | None = None
) -> None:
    """Raise AsOfError when ``as_of`` is more than FUTURE_TOLERANCE ahead of ``now``."""
    now = now or utc_now()
    if as_of > now + FUTURE_TOLERANCE:
        raise AsOfError(
            f"{option} {_shown(as_of)} is more than a day after now ({_shown(now)} UTC); "
            "check the date, or pass --allow-backdated to run at that time anyway"
        )


def check_not_before_export(
    as_of: datetime, newest: dict[str, datetime | None], *, option: str = "--as-of"
) -> None:
    """Raise AsOfError when an entity of the export (``newest``: entity -> its latest
    created_at) holds a record created more than CREATED_AFTER_TOLERANCE after ``as_of``."""
    for entity, created in sorted(newest.items()):
        if created is not None and created > as_of + CREATED_AFTER_TOLERANCE:
            raise AsOfError(
                f"{option} {_shown(as_of)} is earlier than the export: {entity} were created "
                f"up to {_shown(created)}, more than a day later; use the export's time, or "
                "pass --allow-backdated to replay the past"
            )
