"""The compiled word hasher equals ``word_hashes(normalize(text).split())``: XXH64, the
code point fold table, and whole texts (real pages, every script, invalid UTF-8)."""

import json
import random

import numpy as np
import pyarrow as pa
import xxhash

from curate.text.charfold import N_CODE_POINTS, fold_table
from curate.text.ngrams import normalize, word_hashes
from curate.text.wordhash import batch_word_hashes, xxh64
from tests.conftest import shared_path


def scalar(text: str) -> np.ndarray:
    return word_hashes(normalize(text).split())


def test_xxh64_equals_xxhash():
    rng = random.Random(0)
    for n in [*range(300), 1000, 4099]:  # every tail path, 32-byte stripes and none
        data = rng.randbytes(n)
        assert int(xxh64(np.frombuffer(data, dtype=np.uint8), n)) == xxhash.xxh64_intdigest(data)


def test_fold_table_is_normalize_per_code_point():
    offsets, data, _ = fold_table()
    assert len(offsets) == N_CODE_POINTS + 1
    planes_above = range(0x10000, N_CODE_POINTS, 7)
    for cp in [*range(0xD800), *range(0xE000, 0x10000), *planes_above]:
        piece = data[offsets[cp] : offsets[cp + 1]].tobytes().decode("utf-8")
        assert " ".join(piece.split()) == normalize(chr(cp)), hex(cp)


def test_batch_equals_scalar_on_real_pages():
    root = shared_path("pages", "extraction-benchmark")
    truth = json.loads((root / "ground-truth.json").read_text())
    texts = [item["articleBody"] for item in truth.values()]
    w, offsets = batch_word_hashes(pa.array(texts))
    for i, text in enumerate(texts):
        assert np.array_equal(w[offsets[i] : offsets[i + 1]], scalar(text)), text[:80]


def test_batch_equals_scalar_on_every_script():
    # A text per block of 64 code points: all scripts, marks, digits and punctuation.
    texts = ["".join(map(chr, range(lo, lo + 64))) for lo in range(0x20, 0x30000, 64)]
    texts = [t for t in texts if not any(0xD800 <= ord(c) < 0xE000 for c in t)]
    sliced = pa.array([None, *texts])[1:]  # an Arrow slice: its offsets do not start at 0
    w, offsets = batch_word_hashes(sliced)
    assert len(offsets) == len(texts) + 1
    for i, text in enumerate(texts):
        assert np.array_equal(w[offsets[i] : offsets[i + 1]], scalar(text)), hex(ord(text[0]))


def test_invalid_utf8_folds_like_replacement_characters():
    raw = [b"caf\xc3\xa9 ok", b"bad\xff\xfebyte", b"cut \xe2\x82", b"\xed\xa0\x80surrogate x", b""]
    data = b"".join(raw)
    offsets = np.cumsum([0, *map(len, raw)], dtype=np.int64)
    texts = pa.Array.from_buffers(
        pa.large_string(), len(raw), [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data)]
    )
    w, word_offsets = batch_word_hashes(texts)
    for i, b in enumerate(raw):
        got = w[word_offsets[i] : word_offsets[i + 1]]
        assert np.array_equal(got, scalar(b.decode("utf-8", "replace"))), b


def test_empty_and_null_texts_have_no_words():
    w, offsets = batch_word_hashes(pa.array([None, "", " .,; ", "one"]))
    assert offsets.tolist() == [0, 0, 0, 0, 1]
    assert w.tolist() == scalar("one").tolist()
