"""Hard negatives: presidio matches that look like PII and are not, dropped by rule."""

from __future__ import annotations

import ipaddress
import re

# "version 1.2.3.4", "release 10.0.0.1": a dotted number after a version word is not an IP.
_VERSION_BEFORE = re.compile(
    r"\b(?:version|ver|v|release|build|firmware|kernel|update)\.?\s*$", re.IGNORECASE
)
# "order number 4421-7789", "ISBN 978-...": a labelled identifier is not a phone or an SSN.
_LABEL_BEFORE = re.compile(
    r"\b(?:isbn(?:-1[03])?|issn|order|invoice|ref(?:erence)?|tracking|serial|sku|item|model"
    r"|part|ticket|case|account|patent|doi)\b[^.\n]{0,20}$",
    re.IGNORECASE,
)
_CURRENCY_BEFORE = re.compile(r"[$€£¥]\s*$")
_DATE = re.compile(r"^\d{4}[./-]\d{1,2}[./-]\d{1,2}$|^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$")
_SSN_LAYOUT = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_DOTTED_QUAD = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")  # an IPv4 address, not a phone
_YEAR_RANGE = re.compile(r"^(?:19|20)\d\d\s*[-/]\s*(?:19|20)\d\d$")  # "Phone sales 2019-2023"
# Addresses that identify no one: RFC 1918, loopback, link-local, unique-local, unspecified.
_PRIVATE_NETWORKS = [
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16",
        "0.0.0.0/32", "::1/128", "::/128", "fc00::/7", "fe80::/10",
    )
]  # fmt: skip
_BEFORE = 32
# phonenumbers accepts a few 4-5 digit German numbers ("(点击：1645)" on a real page is a
# click count); in text such a number is a year, a count or a code far more often. The
# pre-scan's phone candidates (curate.pii.prescan) start at this many digits too.
MIN_PHONE_DIGITS = 6


def is_private_ip(value: str) -> bool:
    try:
        addr = ipaddress.ip_address(value.split("/")[0].split("%")[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return any(addr in net for net in _PRIVATE_NETWORKS if net.version == addr.version)


def is_hard_negative(entity: str, text: str, start: int, end: int, scrub_private_ips: bool) -> bool:
    """True when the match ``text[start:end]`` of ``entity`` is one of the known look-alikes."""
    value, before = text[start:end], text[max(0, start - _BEFORE) : start]
    if entity == "IP_ADDRESS":
        if _VERSION_BEFORE.search(before):
            return True
        return not scrub_private_ips and is_private_ip(value)
    if entity == "PHONE_NUMBER":
        if sum(c.isdigit() for c in value) < MIN_PHONE_DIGITS:
            return True
        if any(p.match(value) for p in (_DATE, _SSN_LAYOUT, _YEAR_RANGE, _DOTTED_QUAD)):
            return True
        return bool(_LABEL_BEFORE.search(before) or _VERSION_BEFORE.search(before))
    if entity == "US_SSN":
        return bool(_LABEL_BEFORE.search(before))
    return False
