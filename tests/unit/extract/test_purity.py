"""The extractor is pure: importing and running it never loads Scrapy, Twisted or a browser library."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import linkwatch.extract as ex
links = ex.extract('<p>t.me/+Abc123xyz</p>')
assert [l.url for l in links] == ['https://t.me/+Abc123xyz'], links
ex.decode('가'.encode('cp949'))
banned = {'scrapy', 'twisted', 'playwright', 'scrapy_playwright', 'psycopg', 'bs4'}
bad = sorted(m for m in sys.modules if m.split('.')[0] in banned)
print(','.join(bad))
"""


def test_extract_imports_no_scrapy_in_a_fresh_process() -> None:
    cmd = [sys.executable, "-c", CHECK]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""
    assert out.stderr == ""
