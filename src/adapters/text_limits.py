"""Fitting text into a channel's limits: split long text where a reader pauses, shorten titles.

Shared by every channel adapter (each passes its own limits), so that no option is lost and
no message is cut mid-word on any of them.
"""

from __future__ import annotations

import re

ELLIPSIS = "…"
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*(?=\s)|\n")


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit`` characters, cut where a reader would pause."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _cut_point(text: str, limit: int) -> int:
    """Where to end the next part: the last paragraph, else sentence, else word break that
    leaves the part at least half full; failing that any break at all; failing that ``limit``."""
    window = text[: limit + 1]
    ends = (m.start() if m.group() == "\n" else m.end() for m in _SENTENCE_END.finditer(window))
    sentence = max(ends, default=-1)
    candidates = [window.rfind("\n\n"), min(sentence, limit), window.rfind(" ")]
    for cut in candidates:
        if cut >= limit // 2:
            return cut
    return max((cut for cut in candidates if cut > 0), default=limit)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, at a word break when one is near."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if not text[len(cut)].isspace() and space >= limit // 2:
        cut = cut[:space]  # end on a whole word
    return cut.rstrip(" ,;:.-") + ELLIPSIS
