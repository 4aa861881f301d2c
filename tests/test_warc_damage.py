"""Damaged WARC records: resynchronised on the next record, counted with their reason."""

import pytest

from bench.damaged_warcs import CASES, record, with_length
from curate.extract.warc import read_records


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_damaged_record_is_counted_and_the_rest_read(case, tmp_path):
    path = tmp_path / (case.name + case.suffix)
    path.write_bytes(case.build())
    got = list(read_records(str(path)))
    assert tuple(r.reason for r in got) == case.expected
    # Every whole page comes out with its full payload.
    whole = [r for r in got if r.reason is None]
    assert {r.url for r in whole} == {f"http://example.com/{i}" for i in range(3)} - {
        f"http://example.com/{i}" for i in case.damaged
    }
    assert all(r.payload.endswith(b"</html>") for r in whole)
    for bad in (r for r in got if r.reason):
        assert bad.error.startswith(f"{path} at byte {bad.offset}: ")


def test_digests_are_checked_only_when_asked(tmp_path):
    (case,) = [c for c in CASES if c.name == "digest_mismatch"]
    path = tmp_path / "d.warc.gz"
    path.write_bytes(case.build())
    assert [r.reason for r in read_records(str(path), verify_digests=False)] == [None] * 3


def test_a_record_in_the_block_of_a_whole_record_is_not_split(tmp_path):
    """Resynchronising happens only after a length that does not fit: a page whose text
    holds a WARC header line is one record."""
    inner = record(7).replace(b"WARC-Type: response", b"WARC-Type: resource")
    raw = record(0)
    i = raw.rindex(b"</p>")
    page = raw[:i] + b"\r\n" + inner + raw[i:]
    page = with_length(page, len(inner) + 2)
    path = tmp_path / "nested.warc"
    path.write_bytes(page + record(1))
    got = list(read_records(str(path), verify_digests=False))
    assert [(r.url, r.reason) for r in got] == [
        ("http://example.com/0", None),
        ("http://example.com/1", None),
    ]
