"""PII scrubbing with presidio: offline engines, a candidate pre-scan, replacement policy."""

import os
import sys

import pyarrow as pa

# tldextract (presidio's email validation) builds its extractor at import time and then
# fetches the public suffix list unless this is set: an empty list means the bundled snapshot.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")


def import_presidio_without_torch() -> None:
    """presidio imports spaCy, whose thinc imports torch when installed (the loader's extra)
    only to offer torch-backed layers that presidio's models never use: ~1 s in every
    Python worker. Hide torch for that one import; an ``import torch`` later still works.
    Called where a worker builds its scrubber, not at this package's import, which the
    driver does for PII_COUNTS_TYPE alone."""
    if "torch" in sys.modules or "presidio_analyzer" in sys.modules:
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` fail
    try:
        import presidio_analyzer  # noqa: F401
    finally:
        del sys.modules["torch"]


# Per document: how many of each entity were replaced.
PII_COUNTS_TYPE = pa.list_(pa.struct([("entity", pa.string()), ("count", pa.int32())]))
