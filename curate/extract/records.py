"""One WARC/WET file to Arrow record batches: every record becomes one row.

Kept documents have ``reason = null`` and their text; removed records keep their
metadata, a reason code and, for errors, a message naming the file and offset.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pyarrow as pa

from curate.config import ExtractConfig
from curate.extract.decode import DecodeError, decode_html
from curate.extract.html import Extracted, ExtractTimeout, make_extractor, time_limit
from curate.extract.mojibake import repair
from curate.extract.warc import WarcRecord, read_records
from curate.guard import message
from curate.storage import Storage

RECORD_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("url", pa.string()),
        ("host", pa.string()),
        ("crawl_date", pa.timestamp("us", tz="UTC")),
        ("warc_path", pa.string()),
        ("warc_offset", pa.int64()),
        ("warc_record_id", pa.string()),
        ("text", pa.string()),
        ("n_chars", pa.int32()),
        # Characters the mojibake repair removed (0: nothing to repair; null: no text).
        ("repaired_chars", pa.int32()),
        # The text came from the slower re-extraction (extract.fallback; null: no text).
        ("extract_fallback", pa.bool_()),
        ("reason", pa.string()),
        ("error", pa.string()),
    ]
)

_BATCH_ROWS = 256
_BATCH_TEXT_BYTES = 16 * 1024 * 1024


def document_id(warc_path: str, offset: int) -> str:
    """Stable id: the file's base name (unique in Common Crawl) and the record's byte offset."""
    key = f"{posixpath.basename(warc_path)}:{offset}".encode()
    return hashlib.blake2b(key, digest_size=16).hexdigest()


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlsplit(url.strip()).hostname
    except ValueError:
        return None


def parse_warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text_of(rec: WarcRecord, extract: Callable[[str, str | None], Extracted], timeout_s: float):
    """Return (text, reason, error, fallback) for a candidate record."""
    assert rec.payload is not None
    if rec.rec_type == "conversion":
        text = rec.payload.decode("utf-8", errors="replace").strip()
        return (text, None, None, False) if text else (None, "extract_empty", None, None)
    at = f"{rec.warc_path} at byte {rec.offset}"
    try:
        html = decode_html(rec.payload, rec.content_type)
    except DecodeError as exc:
        return None, "decode_error", f"{at}: {exc}", None
    try:
        with time_limit(timeout_s):
            text, fallback = extract(html, rec.url)
    except ExtractTimeout:
        return None, "extract_timeout", f"{at}: over {timeout_s}s", None
    except Exception as exc:  # a parser bug on one page must not stop the file
        return None, "extract_error", f"{at}: {type(exc).__name__}: {exc}"[:500], None
    return (text, None, None, fallback) if text else (None, "extract_empty", None, None)


def _to_batch(rows: dict[str, list]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(rows, schema=RECORD_SCHEMA)


def ingest_file(
    warc_path: str,
    cfg: ExtractConfig,
    extract: Callable[[str, str | None], Extracted] | None = None,
    st: Storage | None = None,
) -> Iterator[pa.RecordBatch]:
    """Read, decode and extract one file; yield record batches of bounded size."""
    extract = extract or make_extractor(cfg)
    rows: dict[str, list] = {f.name: [] for f in RECORD_SCHEMA}
    text_bytes = 0
    for rec in read_records(warc_path, cfg.max_html_bytes, st, cfg.verify_digests):
        text, reason, error, repaired, fallback = None, rec.reason, rec.error, None, None
        if reason is None:
            try:
                text, reason, error, fallback = _text_of(rec, extract, cfg.timeout_s)
                if text is not None:
                    text, repaired = repair(text)
            except Exception as exc:  # the per-record guard: this record, not the file
                at = f"{warc_path} at byte {rec.offset}"
                text, reason, error = None, "extract_error", f"{at}: {message(exc)}"
        rows["id"].append(document_id(warc_path, rec.offset))
        rows["url"].append(rec.url)
        rows["host"].append(host_of(rec.url))
        rows["crawl_date"].append(parse_warc_date(rec.date))
        rows["warc_path"].append(warc_path)
        rows["warc_offset"].append(rec.offset)
        rows["warc_record_id"].append(rec.record_id)
        rows["text"].append(text)
        rows["n_chars"].append(len(text) if text is not None else None)
        rows["repaired_chars"].append(repaired if text is not None else None)
        rows["extract_fallback"].append(fallback if text is not None else None)
        rows["reason"].append(reason)
        rows["error"].append(error)
        text_bytes += len(text) if text else 0
        if len(rows["id"]) >= _BATCH_ROWS or text_bytes >= _BATCH_TEXT_BYTES:
            yield _to_batch(rows)
            rows = {f.name: [] for f in RECORD_SCHEMA}
            text_bytes = 0
    if rows["id"]:
        yield _to_batch(rows)
