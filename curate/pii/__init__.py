"""PII scrubbing with presidio: offline engines, a candidate pre-scan, replacement policy."""

import os

import pyarrow as pa

# tldextract (presidio's email validation) builds its extractor at import time and then
# fetches the public suffix list unless this is set: an empty list means the bundled snapshot.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

# Per document: how many of each entity were replaced.
PII_COUNTS_TYPE = pa.list_(pa.struct([("entity", pa.string()), ("count", pa.int32())]))
