"""Crafted damaged WARC files, built with warcio: each case with the reasons it must yield.

Shared by bench/warc.py and tests/test_warc_damage.py. Every case holds three HTML
responses; the middle one (or the last) is damaged, the others must come out whole.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def record(i: int, gz: bool = False) -> bytes:
    """One WARC response record (digests written by warcio), uncompressed or one member."""
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    body = f"<html><body><p>Page {i}: {'a sentence of words. ' * 40}</p></body></html>"
    http = StatusAndHeaders(
        "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
    )
    rec = writer.create_warc_record(
        f"http://example.com/{i}", "response", payload=io.BytesIO(body.encode()), http_headers=http
    )
    writer.write_record(rec)
    return buf.getvalue()


def with_length(raw: bytes, delta: int) -> bytes:
    m = re.search(rb"Content-Length: (\d+)", raw)
    assert m
    return raw[: m.start(1)] + str(int(m.group(1)) + delta).encode() + raw[m.end(1) :]


def with_bad_digest(raw: bytes) -> bytes:
    """Change one payload byte: the record still frames, its digests no longer match."""
    i = raw.rindex(b"a sentence")
    return raw[:i] + b"A" + raw[i + 1 :]


def _members(*parts: bytes) -> bytes:
    return b"".join(gzip.compress(p, mtime=0) for p in parts)


@dataclass(frozen=True)
class Case:
    name: str
    suffix: str
    build: Callable[[], bytes]
    # Reason of each record read, in order (None: a document).
    expected: tuple[str | None, ...]
    # Which of the pages 0, 1, 2 is damaged (the others must come out whole).
    damaged: tuple[int, ...]


CASES = (
    Case(
        "length_too_long",
        ".warc",
        lambda: record(0) + with_length(record(1), 40) + record(2),
        (None, "truncated_record", None),
        (1,),
    ),
    Case(
        "length_too_short",
        ".warc",
        lambda: record(0) + with_length(record(1), -40) + record(2),
        (None, "malformed_record", None),
        (1,),
    ),
    Case(
        "length_too_short_gz",
        ".warc.gz",
        lambda: _members(record(0), with_length(record(1), -40), record(2)),
        (None, "malformed_record", None),
        (1,),
    ),
    Case(
        "length_too_long_gz",
        ".warc.gz",
        lambda: _members(record(0), with_length(record(1), 40), record(2)),
        (None, "truncated_record", None),
        (1,),
    ),
    Case(
        "member_cut_at_end",
        ".warc.gz",
        lambda: (lambda g: g[: len(g) - 150])(_members(record(0), record(1), record(2))),
        (None, None, "truncated_record"),
        (2,),
    ),
    Case(
        "member_cut_in_middle",
        ".warc.gz",
        lambda: _members(record(0)) + gzip.compress(record(1), mtime=0)[:150] + _members(record(2)),
        (None, "truncated_record", None),
        (1,),
    ),
    Case(
        "junk_between_records",
        ".warc",
        lambda: record(0) + b"garbage that is no record\r\n" * 3 + record(1) + record(2),
        (None, "malformed_record", None, None),
        (),
    ),
    Case(
        "digest_mismatch",
        ".warc.gz",
        lambda: _members(record(0), with_bad_digest(record(1)), record(2)),
        (None, "digest_mismatch", None),
        (1,),
    ),
)
