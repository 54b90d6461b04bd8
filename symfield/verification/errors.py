"""The error raised for any formula the verifier cannot accept."""
from __future__ import annotations

from ..errors import SymfieldError

#: Longest excerpt of user text quoted back in a message.
_QUOTE_CHARS = 40


class ParseError(SymfieldError):
    """A formula could not be parsed; the one-line message says what and what is valid."""

    def __init__(self, message: str) -> None:
        # Messages end up in CLI output and logs: keep them on one line whatever was quoted.
        super().__init__(" ".join(str(message).split()))


def quote(text: str) -> str:
    """``text`` quoted for an error message, shortened and with control characters escaped."""
    short = text if len(text) <= _QUOTE_CHARS else text[:_QUOTE_CHARS] + "..."
    return repr(short)
