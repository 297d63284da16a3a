"""Text from a workbook is data, never instructions to whatever shows it.

A cell can carry control characters (an ANSI escape that clears the analyst's terminal, a
newline that forges a report line) and bidi overrides (U+202E shows text reversed). Every
output that quotes a cell passes it through here: the terminal gets them escaped (``\\x1b``,
``\\u202e``), JSON gets them as JSON escapes, messages quote a bounded part of a value.
"""

from __future__ import annotations

import json
import re

QUOTE_LIMIT = 100      # characters of a value a message quotes
MAX_CELL_TEXT = 32_767   # characters in one cell: Excel's limit, for what we read and write

# C0 and C1 controls, DEL, the line and paragraph separators, and the bidi marks, embeddings,
# overrides and isolates (U+061C, U+200E-200F, U+202A-202E, U+2066-2069).
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# What json.dumps leaves raw among them (it escapes C0 inside strings; its own newlines stay).
_RAW_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(m: re.Match) -> str:
    c = m.group()
    return _SHORT.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def printable(text: str) -> str:
    """`text` for a terminal: every unsafe character written as its escape, on one line."""
    return UNSAFE.sub(_escaped, text)


def json_text(data) -> str:
    """JSON for machines: strict (NaN and Infinity are no JSON, so they raise rather than
    print), with the unsafe characters JSON itself lets through raw (DEL, C1, bidi) escaped
    too. They occur only inside strings, so escaping them in the text keeps it valid JSON."""
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# What a spreadsheet may take as the start of a formula (OWASP's list for CSV injection: = + - @
# tab and carriage return; and a line feed, which Excel trims off before it parses).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def formula_safe(text: str, typed: bool = False) -> str:
    """`text` as a spreadsheet shows it, never evaluated: a leading apostrophe before a formula
    start. `typed`: written as if typed into Excel (Office.js' Range.values), where a leading
    apostrophe is itself the text marker and is swallowed, so such text gets one more."""
    if text.startswith(FORMULA_START) or (typed and text.startswith("'")):
        return "'" + text
    return text


def cell_text(value):
    """`value` as a cell may hold it: text cut to Excel's limit, an ellipsis marking the cut."""
    return quote(value, MAX_CELL_TEXT) if isinstance(value, str) else value


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """At most `limit` characters of a value, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[:limit - 1] + "…"
