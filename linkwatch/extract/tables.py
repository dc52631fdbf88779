"""Unicode tables the extractor derives at start-up, stored with the data versions they came from.

Deriving them reads every code point of planes 0-2 and UTS #39's confusables (about 75 ms in each
process that extracts). A table is used only when this Python's Unicode data and the installed
confusables package are the versions it was derived from; otherwise it is derived again, as before.
`make tables` writes them (`tablegen.write`); a test checks they equal what deriving gives.
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from pathlib import Path

FILE = "unicode-tables.json"


def versions() -> dict[str, str]:
    """The versions of the data the tables are derived from, as this process has them."""
    # the package's own __version__: importlib.metadata would cost each process about 25 ms of imports
    try:
        from confusable_homoglyphs import __version__ as confusables
    except ImportError:
        confusables = "unknown"
    return {"unicodedata": unicodedata.unidata_version, "confusable-homoglyphs": str(confusables)}


def source() -> Path:
    """Where the stored tables are: in the package's data (`tablegen.write` writes there)."""
    return Path(__file__).resolve().parent.parent / "data" / FILE


@cache
def _stored() -> dict[str, object]:
    try:
        data = json.loads(source().read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("versions") == versions() else {}


def stored(name: str) -> object | None:
    """The stored table `name` (special, changeable, lookalikes), or None when it must be derived."""
    return _stored().get(name)
