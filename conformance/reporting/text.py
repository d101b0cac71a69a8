"""Text a gateway wrote, made fit for a line of a report: shown, never acted on."""

from __future__ import annotations


def one_line(text: str) -> str:
    """`text` on one line (whitespace runs, newlines included, become one space), each other control character
    written as an escape (`\\x1b`), so that no terminal or viewer acts on an escape sequence a gateway sent."""
    flat = " ".join(text.split())
    if flat.isprintable():
        return flat
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in flat)


def _escape(ch: str) -> str:
    return f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}"
