"""The one error type of the reader layer."""


class InputError(ValueError):
    """An input that cannot be read as an image: unknown format, bad axes, missing dataset, bad unit."""
