"""A crawl k times the size of docs-crawl for the scale curve of bench/pipeline.py.

Copy 0 of each WARC is the file itself; copy c > 0 rewrites every record with a new
record id (uuid5 of the old one and c), its URL under ``/copy-c/`` and, in HTML
responses, about one in a hundred words of four or more letters suffixed with ``c``:
near-duplicates of the original (word 5-gram Jaccard about 0.9), so URL and exact dedup
cannot remove them and MinHash has real work. Lengths and digests are recomputed by
warcio, so the copies read as whole records.
"""

from __future__ import annotations

import re
import uuid
from io import BytesIO
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

_TEXT = re.compile(rb">([^<]+)<")
_WORD = re.compile(rb"\b[A-Za-z]{4,}\b")
EVERY = 97  # one word in this many is changed


def _mutate(html: bytes, copy: int) -> bytes:
    seen = 0

    def word(m: re.Match[bytes]) -> bytes:
        nonlocal seen
        seen += 1
        return m.group() + str(copy).encode() if seen % EVERY == 0 else m.group()

    return _TEXT.sub(lambda m: b">" + _WORD.sub(word, m.group(1)) + b"<", html)


def _copy_url(url: str, copy: int) -> str:
    scheme, sep, rest = url.partition("://")
    host, _, path = rest.partition("/")
    return f"{scheme}{sep}{host}/copy-{copy}/{path}" if sep else url


def write_copy(source: Path, target: Path, copy: int) -> None:
    with source.open("rb") as f, target.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for record in ArchiveIterator(f):
            headers = record.rec_headers
            old_id = headers.get_header("WARC-Record-ID") or ""
            new_id = f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{old_id}/{copy}')}>"
            payload = record.content_stream().read()
            html = b"html" in (headers.get_header("WARC-Identified-Payload-Type") or "").encode()
            if record.rec_type == "response" and html:
                payload = _mutate(payload, copy)
            url = headers.get_header("WARC-Target-URI")
            warc_headers = {k: v for k, v in headers.headers if not k.startswith(
                ("WARC-Record-ID", "WARC-Target-URI", "Content-Length", "WARC-Block-Digest",
                 "WARC-Payload-Digest", "WARC-Type"))}  # fmt: skip
            warc_headers["WARC-Record-ID"] = new_id
            new = writer.create_warc_record(
                _copy_url(url, copy) if url else "",
                record.rec_type,
                payload=BytesIO(payload),
                http_headers=record.http_headers,
                warc_headers_dict=warc_headers,
            )
            writer.write_record(new)


def replicate(files: list[Path], scale: int, folder: Path) -> list[Path]:
    """``files`` and their copies 1 .. scale - 1 (written once into ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = list(files)
    for copy in range(1, scale):
        for f in files:
            target = folder / f"{f.name.removesuffix('.warc.gz')}-copy{copy:03d}.warc.gz"
            if not target.exists():
                partial = target.with_suffix(".part")
                write_copy(f, partial, copy)
                partial.rename(target)
            out.append(target)
    return out
