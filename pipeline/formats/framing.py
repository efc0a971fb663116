"""Transmission framing of the wire formats that travelled over teleprinter lines: ANPA-1312
and IPTC 7901. Their control characters are the format's own envelope, not binary:

- SYN SYN (ANPA) and SOH open the message; the header lines follow;
- STX opens the text, ETX closes it, and the trailer after ETX (a time stamp, a transmission
  code) and EOT end the message; ANPA adds US inside its first line and DC1-DC4 as format
  identifiers.

Everything outside STX..ETX is routing, never story text.
"""

from __future__ import annotations

import re

SOH, STX, ETX, EOT, SYN, US = "\x01", "\x02", "\x03", "\x04", "\x16", "\x1f"
FRAMING = re.compile("[\x01\x02\x03\x04\x0b\x0c\x11\x12\x13\x14\x16\x1c\x1d\x1e\x1f\x7f]")
"""The control characters the two formats use for framing."""
_ANPA_MARKS = (US, "\x11", "\x12", "\x13", "\x14")


def framed_format(content: str) -> str | None:
    """``anpa`` or ``iptc7901`` for a framed wire message, else None. Both open with SOH
    (ANPA after SYN SYN) and carry their text after STX; ANPA's header holds the unit
    separator and DC format identifiers, 7901's plain header lines."""
    head = content.lstrip(SYN + " \t\r\n\ufeff")
    if not head.startswith(SOH):
        return None
    stx = head.find(STX, 0, 4096)
    if stx < 0:
        return None
    header = head[1:stx]
    return "anpa" if any(mark in header for mark in _ANPA_MARKS) else "iptc7901"


def envelope(content: str) -> tuple[str, str]:
    """The header (between SOH and STX) and the text (between STX and ETX, or the end),
    framing characters taken out of both."""
    head = content.lstrip(SYN + " \t\r\n\ufeff")
    stx = head.find(STX)
    etx = head.find(ETX, stx + 1)
    header = head[1:stx]
    text = head[stx + 1 :] if etx < 0 else head[stx + 1 : etx]
    return unframed(header), unframed(text)


def unframed(text: str) -> str:
    """``text`` without framing characters, with line ends as ``\\n``."""
    return FRAMING.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
