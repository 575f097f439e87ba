"""Errors the command line turns into one line, kept apart from the modules that raise
them so that naming them imports nothing heavy."""

from __future__ import annotations


class SnapshotError(ValueError):
    """The snapshot cannot be ingested at all (missing file or column, unreadable file)."""


class InputError(ValueError):
    """A command's argument names something its input does not hold (a `--rep` the reps
    export does not list)."""
