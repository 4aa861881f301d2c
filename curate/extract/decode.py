"""Bytes to text for HTML payloads: declared charset, then <meta>, then detection."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-:.]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([a-zA-Z0-9_\-:.]+)", re.I)


class DecodeError(ValueError):
    pass


def _known(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charset(content_type: str | None, payload: bytes) -> str | None:
    """Charset from the HTTP Content-Type header, else from a <meta> tag in the first 4 KB."""
    if content_type:
        m = _HEADER_CHARSET.search(content_type)
        if m and (name := _known(m.group(1))):
            return name
    m = _META_CHARSET.search(payload[:4096])
    if m:
        return _known(m.group(1).decode("ascii", "ignore"))
    return None


def decode_html(payload: bytes, content_type: str | None = None) -> str:
    """Decode strictly with the declared charset, then UTF-8, then the detected one."""
    tried = []
    for name in (declared_charset(content_type, payload), "utf-8"):
        if name and name not in tried:
            tried.append(name)
            try:
                return payload.decode(name)
            except (UnicodeDecodeError, LookupError):
                continue
    best = from_bytes(payload[:200_000]).best()
    if best is None or best.encoding is None:
        raise DecodeError(f"no charset decodes the payload (tried {', '.join(tried)}, detection)")
    return payload.decode(best.encoding, errors="replace")
