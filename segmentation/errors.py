"""The one error type the engine raises for problems a user can fix."""

from __future__ import annotations


class SegmentationError(ValueError):
    """Input, spec or data the engine cannot work with.

    The message is written for the person who supplied the input: it names what was wrong
    and where, and is safe to show on a web page or a command line as it is. ``key`` is the
    spec key the fix belongs to, when there is one, so a form can show the message beside
    that field.
    """

    def __init__(self, *args: object, key: str | None = None) -> None:
        super().__init__(*args)
        self.key = key


class SpecError(SegmentationError):
    """A segmentation spec with an unknown key, a missing key or a value of the wrong type."""
