"""Text a gateway wrote, made fit for a report line (the console's, the Markdown summaries'): shown, never acted on."""

from __future__ import annotations

import re

_BACKTICKS = re.compile(r"`+")


def one_line(text: str) -> str:
    """`text` on one line (whitespace runs, newlines included, become one space), each other control character
    written as an escape (`\\x1b`), so that no terminal or viewer acts on an escape sequence a gateway sent."""
    flat = " ".join(text.split())
    if flat.isprintable():
        return flat
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in flat)


def as_code(text: str, limit: int | None = None, *, cell: bool = False) -> str:
    """`text` as Markdown inline code on one line (see one_line), cut at `limit` characters; `cell`: in a table (pipes
    escaped). In code, Markdown renders no link, image, emphasis or HTML: a gateway's words are shown as written."""
    flat = one_line(text)
    if limit is not None and len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    if not flat:
        return ""
    if cell:
        # a table splits its row at every unescaped pipe, even inside code; "\|" is a pipe in the cell's code (a
        # backslash of the text's own before it would pair with ours: a space keeps them apart)
        flat = flat.replace("\\|", "\\ |").replace("|", "\\|")
    fence = "`" * (1 + max((len(run) for run in _BACKTICKS.findall(flat)), default=0))
    # one space inside each end when the text starts or ends with a backtick: Markdown strips exactly those
    pad = " " if flat[0] == "`" or flat[-1] == "`" else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _escape(ch: str) -> str:
    return f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}"
