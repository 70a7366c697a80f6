"""The errors the grader raises on purpose; each class says what happened.

They carry a one-line, actionable message: what is wrong, where (file, key or question), and
what to do. The CLI prints the message alone, without a traceback.
"""


class Assn1Error(Exception):
    """Base class: something the user can fix, reported in one line."""


class ConfigError(Assn1Error):
    """grading.yml is missing, malformed, or has a missing, unknown or mistyped key."""


class DataError(Assn1Error):
    """A data file is missing, has the wrong shape, type, size or checksum, or is unsafe to load."""


class DownloadError(DataError):
    """A download failed: the network is unreachable, the server refused, or the bytes don't verify."""
