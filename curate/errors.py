"""Errors that reach the user as one line (the CLI prints them without a traceback)."""


class StageError(RuntimeError):
    """A stage that failed: its name and the cause (for storage, the URI at fault)."""
