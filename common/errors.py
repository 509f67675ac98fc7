"""Error types that end a script with one line on stderr instead of a traceback."""


class ScriptError(Exception):
    """A failure caused by the input or the environment: one line on stderr, exit code 2."""


class DivergedError(ScriptError):
    """Training produced a non-finite loss."""


class DataError(ScriptError):
    """Missing, unreadable or corrupt data files."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived; `after_commit` is True when this run's outputs were all written.

    A BaseException, like KeyboardInterrupt, so that no `except Exception` swallows it.
    """

    def __init__(self, signum, after_commit=False):
        super().__init__(signum)
        self.signum, self.after_commit = signum, after_commit
