"""Stream WARC / WET records, one file at a time, resynchronising after damage.

Pure Python (no Spark). Neither warcio nor FastWARC recovers from a record whose
``Content-Length`` does not fit its block (both read on into the next record, or stop
the file), so the framing is done here: gzip members are decompressed one by one with
zlib, a record's length is checked against the ``\\r\\n\\r\\n`` that must follow its block,
and after a length that does not fit, or bytes that are no record, reading resumes at the
next ``WARC/1.x`` header line (or the next gzip member). Each framed record is then parsed
by warcio (HTTP headers, chunked and content encodings) and its digests are verified.

Every byte range of the input becomes one ``WarcRecord``: a candidate document, or a
record with a reason (``truncated_record``, ``malformed_record``, ``digest_mismatch``,
``not_response`` …), so that the records actually present are all accounted for.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import BinaryIO

from warcio.recordloader import ArcWarcRecordLoader

from curate.storage import Storage

HTML_TYPES = ("text/html", "application/xhtml+xml")

_CHUNK = 1 << 20
_FEED = 1 << 16  # compressed bytes per inflate call
_GZIP_MAGIC = b"\x1f\x8b\x08"
# Compressed bytes kept behind the decompressor, to find the next member after damage.
_KEEP_COMPRESSED = 4 << 20
_MAX_HEADER = 1 << 20
# The start of a record: a version line at the start of a line.
_VERSION = re.compile(rb"WARC/\d+\.\d+\r?\n")
_NEXT_RECORD = re.compile(rb"(?:(?<=\n)|^)WARC/\d+\.\d+\r?\n")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_SPACE = b" \t\r\n"
_NOT_SPACE = re.compile(rb"[^ \t\r\n]")


@dataclass(slots=True)
class WarcRecord:
    warc_path: str
    offset: int
    rec_type: str
    url: str | None = None
    date: str | None = None
    record_id: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    payload: bytes | None = None
    # Set when the record is removed while reading; None for a candidate document.
    reason: str | None = None
    error: str | None = None


# -- decompressed segments: one per gzip member, or the whole of a plain file ------------


class _Compressed:
    """A gzip file's bytes: a window that starts at file offset ``start``."""

    def __init__(self, fh: BinaryIO, head: bytes) -> None:
        self.fh = fh
        self.data = bytearray(head)
        self.start = 0

    def more(self) -> bool:
        chunk = self.fh.read(_CHUNK)
        self.data += chunk
        return bool(chunk)

    def fill(self, end: int) -> None:
        while self.start + len(self.data) < end and self.more():
            pass

    def drop_before(self, offset: int) -> None:
        if offset > self.start:
            del self.data[: offset - self.start]
            self.start = offset


class _Segment(ABC):
    """Decompressed bytes read on demand: ``buf`` holds them from position ``base`` on."""

    def __init__(self, offset: int) -> None:
        self.offset = offset  # where the segment starts in the file
        self.buf = bytearray()
        self.base = 0
        self.ended = False
        self.error: str | None = None

    @abstractmethod
    def pull(self) -> bool:
        """Read more bytes into ``buf``; False once the segment has ended."""

    @abstractmethod
    def record_offset(self, pos: int) -> int:
        """The file offset that names a record starting at ``buf[pos]``."""

    def fill(self, n: int) -> bool:
        """Make ``buf`` hold at least ``n`` bytes; False if the segment ends first."""
        while len(self.buf) < n:
            if not self.pull():
                return False
        return True

    def consume(self, n: int) -> None:
        del self.buf[:n]
        self.base += n

    def where(self) -> str:
        return "the gzip member" if isinstance(self, _Member) else "the file"


class _Plain(_Segment):
    def __init__(self, fh: BinaryIO, head: bytes) -> None:
        super().__init__(0)
        self.fh = fh
        self.buf += head

    def pull(self) -> bool:
        if self.ended:
            return False
        chunk = self.fh.read(_CHUNK)
        if not chunk:
            self.ended = True
            return False
        self.buf += chunk
        return True

    def record_offset(self, pos: int) -> int:
        return self.base + pos


class _Member(_Segment):
    def __init__(self, comp: _Compressed, offset: int) -> None:
        super().__init__(offset)
        self.comp = comp
        self.inflate = zlib.decompressobj(31)
        self.fed = offset  # file offset of the next compressed byte to feed
        self.end = offset  # file offset just past the member, once it has ended
        comp.fill(offset + len(_GZIP_MAGIC))
        i = offset - comp.start
        self.gzip_header = comp.data[i : i + len(_GZIP_MAGIC)] == _GZIP_MAGIC

    def pull(self) -> bool:
        if self.ended:
            return False
        comp = self.comp
        if self.fed - comp.start >= len(comp.data) and not comp.more():
            self.ended = True
            self.error = "gzip member cut by the end of the file"
            return False
        i = self.fed - comp.start
        chunk = bytes(comp.data[i : i + _FEED])
        state = self.inflate.copy()
        try:
            out = self.inflate.decompress(chunk)
        except zlib.error as exc:
            self._salvage(state, chunk)
            self.ended = True
            self.error = f"gzip data broken: {exc}"
            return False
        self.fed += len(chunk) - len(self.inflate.unused_data)
        self.buf += out
        if self.inflate.eof:
            self.ended = True
            self.end = self.fed
        comp.drop_before(max(self.offset + 1, self.fed - _KEEP_COMPRESSED))
        return True

    def _salvage(self, state, chunk: bytes) -> None:
        """Keep what inflates before the damage (a failed call returns nothing)."""
        for i in range(0, len(chunk), 64):
            try:
                self.buf += state.decompress(chunk[i : i + 64])
            except zlib.error:
                return

    def record_offset(self, pos: int) -> int:
        # A member's first record is addressed by the member's offset, as in CDX indexes; a
        # later record of the same member (a file gzipped whole) by its position inside it.
        return self.offset + self.base + pos


def _next_member(comp: _Compressed, after: int) -> int | None:
    """File offset of the first gzip member at or after ``after`` that holds a WARC record."""
    pos = after
    while True:
        comp.drop_before(min(pos, comp.start + len(comp.data)))
        i = comp.data.find(_GZIP_MAGIC, pos - comp.start)
        if i < 0:
            pos = max(comp.start, comp.start + len(comp.data) - len(_GZIP_MAGIC) + 1)
            if not comp.more():
                return None
            continue
        cand = comp.start + i
        if _starts_record(comp, cand):
            return cand
        pos = cand + 1


def _starts_record(comp: _Compressed, at: int) -> bool:
    probe = zlib.decompressobj(31)
    comp.fill(at + 4096)
    try:
        head = probe.decompress(bytes(comp.data[at - comp.start : at - comp.start + 4096]), 64)
    except zlib.error:
        return False
    return head.lstrip(_SPACE).startswith(b"WARC/")


def _segments(fh: BinaryIO) -> Iterator[_Segment]:
    head = fh.read(2)
    if head != _GZIP_MAGIC[:2]:
        yield _Plain(fh, head)
        return
    comp = _Compressed(fh, head)
    offset: int | None = 0
    while offset is not None:
        member = _Member(comp, offset)
        yield member
        while member.pull():  # the reader may leave the rest of a member unread
            member.consume(len(member.buf))
        if member.error is None:
            if not comp.data[member.end - comp.start :] and not comp.more():
                return
            offset = member.end
            continue
        offset = _next_member(comp, member.offset + 1)


# -- framing: header, block of Content-Length bytes, two CRLFs ----------------------------


@dataclass(slots=True)
class _Frame:
    offset: int
    header: bytes
    block: bytes | None  # None when the block was too large to hold
    reason: str | None = None
    error: str | None = None


def _skip_space(seg: _Segment) -> bool:
    """Drop blank bytes between records; False when the segment has no more bytes."""
    while True:
        m = _NOT_SPACE.search(seg.buf)
        seg.consume(m.start() if m else len(seg.buf))
        if seg.buf:
            return True
        if not seg.pull():
            return False


def _find(seg: _Segment, pattern: re.Pattern, start: int, limit: int) -> int | None:
    """Position of ``pattern`` at or after ``start``, reading on until ``limit`` bytes."""
    while True:
        m = pattern.search(seg.buf, start)
        if m:
            return m.start()
        if len(seg.buf) >= limit or not seg.pull():
            return None


def _frames(seg: _Segment, max_block: int) -> Iterator[_Frame]:
    while _skip_space(seg):
        seg.fill(16)
        at = seg.record_offset(0)
        if not _VERSION.match(seg.buf):
            nxt = _find(seg, _NEXT_RECORD, 1, max_block)
            n = nxt if nxt is not None else len(seg.buf)
            yield _Frame(at, b"", None, "malformed_record", f"{n} bytes that are not a WARC record")
            seg.consume(n)
            continue
        m = None
        while (m := _HEADER_END.search(seg.buf)) is None and len(seg.buf) < _MAX_HEADER:
            if not seg.pull():
                break
        if m is None:
            cut = seg.ended and len(seg.buf) < _MAX_HEADER
            reason = "truncated_record" if cut else "malformed_record"
            why = f"header cut by the end of {seg.where()}" if cut else "header over 1 MiB"
            yield _Frame(at, bytes(seg.buf[:2048]), None, reason, _with(why, seg))
            seg.consume(max(1, len(seg.buf) if cut else 1))
            continue
        header, body = bytes(seg.buf[: m.start()]), m.end()
        length = _content_length(header)
        if length is None:
            yield _Frame(at, header, None, "malformed_record", "no valid Content-Length")
            seg.consume(body)
            continue
        end = body + length
        if length > max_block:
            yield _skip_block(seg, at, header, body, length)
            continue
        seg.fill(end + 4)
        if _fits(seg, end):
            yield _Frame(at, header, bytes(seg.buf[body:end]))
            seg.consume(end)
            continue
        # The length does not fit: the block runs to the next record header.
        nxt = _find(seg, _NEXT_RECORD, body, end + max_block)
        stop = nxt if nxt is not None else len(seg.buf)
        block = bytes(seg.buf[body:stop]).rstrip(b"\r\n")
        if len(block) < length:
            to = "the next record" if nxt is not None else f"the end of {seg.where()}"
            why = f"Content-Length {length} but {len(block)} bytes before {to}"
            yield _Frame(at, header, block, "truncated_record", _with(why, seg))
        else:
            why = f"Content-Length {length} but the block runs {len(block)} bytes"
            yield _Frame(at, header, block, "malformed_record", why)
        seg.consume(stop)
    if seg.error and seg.base == 0:  # nothing of it inflated
        if isinstance(seg, _Member) and seg.gzip_header:
            yield _Frame(seg.offset, b"", None, "truncated_record", seg.error)
        else:
            why = f"bytes that are not a gzip member ({seg.error})"
            yield _Frame(seg.offset, b"", None, "malformed_record", why)


def _with(why: str, seg: _Segment) -> str:
    return f"{why} ({seg.error})" if seg.error else why


def _fits(seg: _Segment, end: int) -> bool:
    tail = bytes(seg.buf[end : end + 4])
    if tail == b"\r\n\r\n" or tail[:2] == b"\n\n":
        return True
    # ClueWeb09's WARC/0.18 counts the separator in the block: the next record follows.
    if tail == b"WARC" and _VERSION.match(seg.buf, end):
        return True
    # A last record whose trailer is missing or short is whole: only blanks follow it.
    return seg.ended and len(seg.buf) >= end and not tail.strip(_SPACE)


def _skip_block(seg: _Segment, at: int, header: bytes, body: int, length: int) -> _Frame:
    """A block too large to hold: read past it; a bad length shows as bytes after it."""
    left = body + length
    while left > 0:
        if not seg.buf and not seg.pull():
            why = f"Content-Length {length} runs past the end of {seg.where()}"
            return _Frame(at, header, None, "truncated_record", _with(why, seg))
        n = min(left, len(seg.buf))
        seg.consume(n)
        left -= n
    return _Frame(at, header, None, "too_large", f"block of {length} bytes")


@cache
def _field(name: bytes) -> re.Pattern:
    return re.compile(rb"(?im)^" + re.escape(name) + rb"[ \t]*:[ \t]*(.*?)[ \t]*\r?$")


def _header_value(header: bytes, name: bytes) -> bytes | None:
    m = _field(name).search(header)
    return m.group(1) if m else None


def _content_length(header: bytes) -> int | None:
    value = _header_value(header, b"Content-Length")
    return int(value) if value is not None and value.isdigit() else None


# -- digests and parsing -----------------------------------------------------------------


def _digest_ok(spec: bytes | None, data: bytes) -> bool:
    """Check a ``sha1:BASE32`` (or hex) digest; unknown algorithms pass."""
    if spec is None or b":" not in spec:
        return True
    alg, _, want = spec.decode("ascii", "replace").partition(":")
    try:
        got = hashlib.new(alg.strip().lower().replace("-", ""), data).digest()
    except ValueError:
        return True
    want = want.strip()
    return want.upper() in (base64.b32encode(got).decode(), got.hex().upper())


def _digest_error(frame: _Frame) -> str | None:
    block = frame.block
    assert block is not None
    if not _digest_ok(_header_value(frame.header, b"WARC-Block-Digest"), block):
        return "WARC-Block-Digest does not match the block"
    spec = _header_value(frame.header, b"WARC-Payload-Digest")
    kind = _header_value(frame.header, b"WARC-Type")
    if spec is not None and kind == b"response":
        http_end = _HEADER_END.search(block)
        if http_end and not _digest_ok(spec, block[http_end.end() :]):
            return "WARC-Payload-Digest does not match the payload"
    return None


_LOADER = ArcWarcRecordLoader()


def _parse(frame: _Frame):
    assert frame.block is not None
    data = frame.header + b"\r\n\r\n" + frame.block
    return _LOADER.parse_record_stream(
        io.BufferedReader(io.BytesIO(data)), ensure_http_headers=False
    )


def _content_type(record) -> str | None:
    if record.http_headers is not None:
        ctype = record.http_headers.get_header("Content-Type")
        if ctype:
            return ctype
    return record.rec_headers.get_header("WARC-Identified-Payload-Type")


def _is_html(content_type: str | None) -> bool:
    return content_type is not None and content_type.split(";")[0].strip().lower() in HTML_TYPES


def _classify(record, out: WarcRecord, max_payload: int) -> None:
    """Fill status fields and, for candidate documents, the payload."""
    if out.rec_type == "conversion":  # WET: text already extracted by Common Crawl
        out.content_type = "text/plain"
    elif out.rec_type != "response":
        out.reason = "not_response"
        return
    else:
        if record.http_headers is None:
            out.reason = "malformed_record"
            out.error = "response record without HTTP headers"
            return
        status = record.http_headers.get_statuscode()
        try:
            out.http_status = int(status)
        except (TypeError, ValueError):
            out.reason = "malformed_record"
            out.error = f"bad HTTP status {status!r}"
            return
        if out.http_status != 200:
            out.reason = "http_status"
            return
        out.content_type = _content_type(record)
        if not _is_html(out.content_type):
            out.reason = "not_html"
            return
    try:
        payload = record.content_stream().read(max_payload + 1)
    except Exception as exc:  # broken chunked or content encoding inside one record
        out.reason = "decode_error"
        out.error = f"payload: {type(exc).__name__}: {exc}"[:300]
        return
    if len(payload) > max_payload:
        out.reason = "too_large"
        out.error = f"payload over {max_payload} bytes"
        return
    out.payload = payload


def _text(value: bytes | None) -> str | None:
    return value.decode("utf-8", "replace") if value is not None else None


def _record(path: str, frame: _Frame, max_payload: int, verify: bool) -> WarcRecord:
    kind = _text(_header_value(frame.header, b"WARC-Type"))
    out = WarcRecord(
        warc_path=path,
        offset=frame.offset,
        rec_type=kind or ("unreadable" if not frame.header else "unknown"),
        url=_text(_header_value(frame.header, b"WARC-Target-URI")),
        date=_text(_header_value(frame.header, b"WARC-Date")),
        record_id=_text(_header_value(frame.header, b"WARC-Record-ID")),
        reason=frame.reason,
        error=frame.error,
    )
    candidate = out.rec_type in ("response", "conversion")
    if not candidate and out.reason in (None, "too_large"):
        out.reason, out.error = "not_response", None  # its block is not needed: no parse
    elif out.reason is None:
        if verify and (bad := _digest_error(frame)):
            out.reason, out.error = "digest_mismatch", bad
        else:
            try:
                _classify(_parse(frame), out, max_payload)
            except Exception as exc:  # warcio rejects this record's headers
                out.reason = "malformed_record"
                out.error = f"{type(exc).__name__}: {str(exc).strip()[:300]}"
    if out.error:
        out.error = f"{path} at byte {out.offset}: {out.error}"
    return out


def read_records(
    path: str,
    max_payload: int = 4 * 1024 * 1024,
    st: Storage | None = None,
    verify_digests: bool = True,
) -> Iterator[WarcRecord]:
    """Yield every record of one WARC/WET file; never raises for bad content."""
    # A block may be compressed HTML several times the payload limit; past this it is
    # skipped unread rather than held.
    max_block = max(8 * max_payload, 64 << 20)
    try:
        with (st or Storage()).open_input(path) as fh:
            for seg in _segments(fh):
                for frame in _frames(seg, max_block):
                    yield _record(path, frame, max_payload, verify_digests)
    except Exception as exc:  # the file cannot be opened or read on
        yield WarcRecord(
            warc_path=path,
            offset=-1,
            rec_type="unreadable",
            reason="malformed_record",
            error=f"{path}: {type(exc).__name__}: {str(exc).strip()[:300]}",
        )
