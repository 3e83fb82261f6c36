"""Text for consoles that cannot show every character (a Windows cp1252 console has no ∂).

Output degrades to ASCII where the stream's encoding cannot encode it: ``∂`` becomes ``d``,
``·`` ``*``, ``→`` ``->``, accented letters lose their accents (``ŷ`` -> ``y``), anything else
``?``. Text a stream can encode is left as it is.
"""

from __future__ import annotations

import codecs
import unicodedata
from typing import TextIO

ASCII = {
    "∂": "d", "·": "*", "×": "x", "−": "-", "–": "-", "—": "--", "…": "...", "→": "->",
    "←": "<-", "±": "+/-", "≤": "<=", "≥": ">=", "≈": "~", "≠": "!=", "Σ": "sum", "½": "1/2",
    "²": "^2", "³": "^3", "‖": "||", "◀": "<", "▶": ">", "✓": "ok", "°": " deg", "µ": "u",
}  # fmt: skip
ERRORS = "viz-ascii"  # the codec error handler: errors="viz-ascii" on a stream


def to_ascii(text: str) -> str:
    """``text`` with every non-ASCII character spelled in ASCII."""
    out = []
    for c in text:
        if c.isascii():
            out.append(c)
        elif c in ASCII:
            out.append(ASCII[c])
        else:
            plain = unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode()
            out.append(plain or "?")
    return "".join(out)


def _fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return to_ascii(error.object[error.start : error.end]), error.end


codecs.register_error(ERRORS, _fallback)


def _encoding(stream: TextIO) -> str:
    return getattr(stream, "encoding", None) or "utf-8"


def for_stream(text: str, stream: TextIO) -> str:
    """``text`` as ``stream`` can write it: unchanged, or ASCII where its encoding falls short."""
    encoding = _encoding(stream)
    try:
        return text.encode(encoding, ERRORS).decode(encoding)
    except LookupError:  # an encoding Python does not know: ASCII is safe
        return to_ascii(text)


def ascii_fallback(*streams: TextIO) -> None:
    """Make each stream (e.g. ``sys.stdout``) write ASCII for what its encoding cannot encode,
    instead of raising UnicodeEncodeError. Streams that can encode ``∂`` are left alone."""
    for stream in streams:
        try:
            "∂·→".encode(_encoding(stream))
        except (UnicodeEncodeError, LookupError):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors=ERRORS)
