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


# Where charset detection ties (same mess, same language coherence, as cp1250 and cp1252
# do on French), the charset more pages use wins (W3Techs' ranking of the web's encodings).
_WEB_ORDER = (
    "utf_8",
    "cp1252",
    "latin_1",
    "cp1251",
    "shift_jis",
    "gb2312",
    "gbk",
    "gb18030",
    "euc_kr",
    "euc_jp",
    "big5",
    "iso8859_2",
    "cp1250",
    "iso8859_15",
    "cp1256",
    "iso8859_9",
    "cp1254",
    "koi8_r",
    "cp874",
    "iso8859_7",
    "cp1253",
    "cp1255",
    "cp1257",
)


def _plausible(html: str) -> bool:
    """Decoded HTML shows markup early; UTF-16 read from ASCII bytes shows none."""
    return "<" in html[:4096]


def _mostly_utf8(text: str) -> bool:
    """Valid UTF-8 with a few stray bytes: far more decoded non-ASCII characters than
    replacement characters (a Latin-1 page read as UTF-8 decodes hardly any)."""
    bad = text.count("\ufffd")
    return sum(1 for c in text if c > "\x7f") - bad >= 5 * bad


def _detected(payload: bytes) -> str | None:
    matches = list(from_bytes(payload[:200_000]))
    if not matches:
        return None
    best = matches[0]
    tied = [m.encoding for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    return min(tied, key=lambda e: _WEB_ORDER.index(e) if e in _WEB_ORDER else len(_WEB_ORDER))


def decode_html(payload: bytes, content_type: str | None = None) -> str:
    """Bytes to text: valid UTF-8 first (bytes that decode as UTF-8 with non-ASCII in them
    are UTF-8, whatever the page declares), then the declared charset if it decodes
    strictly to plausible HTML, then UTF-8 with a few stray bytes replaced, then the
    charset detection finds."""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        pass
    tried = ["utf-8"]
    declared = declared_charset(content_type, payload)
    if declared and declared not in tried:
        tried.append(declared)
        try:
            html = payload.decode(declared)
            if _plausible(html):
                return html
        except (UnicodeDecodeError, LookupError):
            pass
    html = payload.decode("utf-8", errors="replace")
    if _mostly_utf8(html):
        return html
    detected = _detected(payload)
    if detected is None:
        raise DecodeError(f"no charset decodes the payload (tried {', '.join(tried)}, detection)")
    return payload.decode(detected, errors="replace")
