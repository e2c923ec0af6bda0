"""Text that users typed or files supplied, made safe to embed in Streamlit markdown.

Streamlit renders titles, headers, captions, alerts, labels and st.markdown as markdown (never as
HTML). A unit name, file name, minute or action title placed in such a string must show as the
characters it is (`*`, `_`, `[a](b)`, `![x](http://…)`, `$x$`, `:red[…]` included), so every
markdown-active character is escaped. Where a whole value stands alone, prefer st.text.
"""

from __future__ import annotations

import re

# CommonMark escapes any ASCII punctuation with a backslash. These are the characters markdown,
# GitHub-flavoured markdown and Streamlit's extensions ($…$ maths, :colour[…], :emoji:) read
# anywhere in a line (a link or image needs its brackets, so parentheses may stay).
_ACTIVE = re.compile(r"([\\`*_\[\]<>~|$:&])")
# … and at the start of a line only: a heading, quote, list item or numbered item.
_LINE_START = re.compile(r"^(\s*\d*)([#>+\-=.)])")


def md(value: object) -> str:
    """`value` as markdown that shows exactly its characters (line breaks become spaces)."""
    text = " ".join(("" if value is None else str(value)).splitlines())
    text = _ACTIVE.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
