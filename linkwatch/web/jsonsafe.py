"""JSON that stays inert wherever it is shown: <, >, & and invisible or reordering characters escaped."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.responses import JSONResponse

# In JSON text these characters can only occur inside strings, so escaping them as \\uXXXX changes
# the bytes, never the data: a parser gets the crawled text exactly as stored, while a browser that
# sniffs the body finds no markup and a terminal that prints it gets no escape sequence or bidi override.
_ESCAPE = re.compile(r"[<>&\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]")


def dumps(content: Any) -> bytes:
    """`content` as UTF-8 JSON (Korean unescaped), with the characters above as \\uXXXX."""
    text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return _ESCAPE.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode("utf-8")


class SafeJSONResponse(JSONResponse):
    """The API's response class (json.dumps already escapes C0 controls as \\u00XX)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)
