"""Typed errors that the edges (pages, command line) turn into one clear sentence."""


class HuddleError(Exception):
    """Base class: its message is a sentence fit to show a coach or an operator."""


class NotFound(HuddleError):
    """The thing does not exist, or belongs to someone else (the two look the same)."""


class ValidationError(HuddleError):
    """Input was refused; nothing was changed."""


class StorageUnavailable(HuddleError):
    """The database could not be reached or used."""


class ArchiveError(ValidationError):
    """A JSON archive could not be read or imported; nothing was written."""
