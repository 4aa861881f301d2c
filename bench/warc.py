"""WARC reading: curate's resynchronising reader beside warcio and FastWARC.

    python bench/warc.py [--rounds 2]

Speed: every record of the docs-crawl WARCs (../shared/data/warc/docs-crawl/), response
payloads read; readers take turns in each round so machine drift cancels.
Damage: the crafted cases of bench/damaged_warcs.py; per reader, how many of the whole
records came out whole and how many damaged records were passed on as whole ones.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from damaged_warcs import CASES
from fastwarc.warc import ArchiveIterator as FastIterator
from fastwarc.warc import WarcRecordType
from warcio.archiveiterator import ArchiveIterator as WarcioIterator

from curate.extract.warc import read_records

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def warcio_reader(path: str) -> Iterator[tuple[str | None, bytes | None]]:
    with open(path, "rb") as fh:
        for rec in WarcioIterator(fh, arc2warc=True):
            body = rec.content_stream().read() if rec.rec_type == "response" else None
            yield rec.rec_headers.get_header("WARC-Target-URI"), body


def fastwarc_reader(path: str) -> Iterator[tuple[str | None, bytes | None]]:
    with open(path, "rb") as fh:
        it = FastIterator(fh, parse_http=True, verify_digests=True, quirks_mode=True)
        for rec in it:
            body = rec.reader.read() if rec.record_type == WarcRecordType.response else None
            yield rec.headers.get("WARC-Target-URI"), body


def curate_reader(path: str) -> Iterator[tuple[str | None, bytes | None]]:
    for rec in read_records(path):
        if rec.reason in (None, "not_response", "not_html", "http_status"):
            yield rec.url, rec.payload


READERS: dict[str, Callable[[str], Iterator[tuple[str | None, bytes | None]]]] = {
    "warcio 1.8 (ArchiveIterator)": warcio_reader,
    "FastWARC 2.0 (verify_digests, quirks_mode)": fastwarc_reader,
    "curate (resync + digests, warcio parse)": curate_reader,
}


def drain(reader, path: str) -> int:
    """Records read, or those read before the reader stopped the file."""
    n = 0
    with contextlib.suppress(Exception):
        for _ in reader(path):
            n += 1
    return n


def speed(files: list[Path], rounds: int) -> None:
    best: dict[str, float] = {}
    records: dict[str, int] = {}
    names = list(READERS)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            t = time.perf_counter()
            records[name] = sum(drain(READERS[name], str(f)) for f in files)
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - t)
    print(f"\nSpeed: {len(files)} docs-crawl WARCs, best of {rounds} rounds, one core")
    print(f"{'reader':<46}{'records':>9}{'seconds':>9}{'records/s':>11}")
    for name in names:
        print(f"{name:<46}{records[name]:>9}{best[name]:>9.2f}{records[name] / best[name]:>11.0f}")


def damage() -> None:
    print("\nDamage: whole records out whole / damaged records passed on as whole")
    print(f"{'case':<24}" + "".join(f"{n.split(' ')[0]:>16}" for n in READERS))
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            path = Path(tmp) / (case.name + case.suffix)
            path.write_bytes(case.build())
            damaged = {f"http://example.com/{i}" for i in case.damaged}
            whole = {f"http://example.com/{i}" for i in range(3)} - damaged
            cells = []
            for reader in READERS.values():
                got: list[tuple[str | None, bytes | None]] = []
                with contextlib.suppress(Exception):  # a reader that stops the file
                    got.extend(reader(str(path)))
                ok = sum(
                    1 for url, body in got if url in whole and body and body.endswith(b"</html>")
                )
                bad = sum(1 for url, body in got if url in damaged and body)
                cells.append(f"{ok}/{len(whole)} {bad:>2}")
            print(f"{case.name:<24}" + "".join(f"{c:>16}" for c in cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    files = sorted((SHARED / "warc" / "docs-crawl").glob("*.warc.gz"))
    if not files:
        raise SystemExit(f"no docs-crawl WARCs under {SHARED}")
    damage()
    speed(files, args.rounds)


if __name__ == "__main__":
    main()
