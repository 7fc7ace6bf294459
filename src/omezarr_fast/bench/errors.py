"""The one error type the bench command turns into a one-line message."""


class BenchError(ValueError):
    """Bad input to the benchmark: unreadable file, unknown codec, empty array."""
