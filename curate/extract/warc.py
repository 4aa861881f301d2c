"""Stream WARC / WET records with warcio through fsspec, one file at a time.

Pure Python (no Spark): yields one ``WarcRecord`` per record read, plus one record with
reason ``malformed_record`` when the file cannot be read to its end, so that every byte
range of the input is accounted for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from warcio.archiveiterator import ArchiveIterator

from curate.storage import Storage

HTML_TYPES = ("text/html", "application/xhtml+xml")


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


def read_records(
    path: str, max_payload: int = 4 * 1024 * 1024, st: Storage | None = None
) -> Iterator[WarcRecord]:
    """Yield every record of one WARC/WET file; never raises for bad content."""
    next_offset = 0
    try:
        with (st or Storage()).open_input(path) as fh:
            it = ArchiveIterator(fh, arc2warc=True)
            for record in it:
                out = WarcRecord(
                    warc_path=path,
                    offset=-1,
                    rec_type=record.rec_type or "unknown",
                    url=record.rec_headers.get_header("WARC-Target-URI"),
                    date=record.rec_headers.get_header("WARC-Date"),
                    record_id=record.rec_headers.get_header("WARC-Record-ID"),
                )
                _classify(record, out, max_payload)
                # warcio knows a record's offset only after reading it to its end.
                out.offset = it.get_record_offset()
                next_offset = max(0, out.offset + it.get_record_length())
                if out.error:
                    out.error = f"{path} at byte {out.offset}: {out.error}"
                yield out
    except Exception as exc:
        yield WarcRecord(
            warc_path=path,
            offset=next_offset,
            rec_type="unreadable",
            reason="malformed_record",
            error=f"{path} at byte {next_offset}: {type(exc).__name__}: {str(exc).strip()[:300]}",
        )
