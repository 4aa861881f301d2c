"""Ingestion and extraction without Spark: real warcio on real files."""

import gzip
import time
from collections import Counter

import pytest
from warcio.archiveiterator import ArchiveIterator

from curate.config import ExtractConfig
from curate.extract.decode import DecodeError, decode_html
from curate.extract.html import ExtractTimeout, make_extractor, time_limit
from curate.extract.records import document_id, ingest_file
from curate.extract.warc import read_records
from tests.conftest import shared_path


def reasons(path, **cfg) -> Counter:
    out = Counter()
    for batch in ingest_file(str(path), ExtractConfig(**cfg)):
        out.update(batch.column("reason").to_pylist())
    return out


def test_common_crawl_sample():
    path = shared_path("warc", "cc", "CC-MAIN-2020-34-sample.warc.gz")
    got = reasons(path)
    # 16 responses (all HTTP 200 HTML), 16 requests, 16 metadata records, 1 warcinfo.
    assert got["not_response"] == 34
    assert got[None] + got["extract_empty"] == 16
    assert got[None] >= 12


def test_record_fields_and_stable_ids():
    path = str(shared_path("warc", "cc", "cc-whirlwind.warc.gz"))
    rows = [r for b in ingest_file(path, ExtractConfig()) for r in b.to_pylist()]
    doc = next(r for r in rows if r["reason"] is None)
    assert doc["url"] == "https://an.wikipedia.org/wiki/Escopete"
    assert doc["host"] == "an.wikipedia.org"
    assert doc["crawl_date"].year == 2024
    assert doc["warc_record_id"].startswith("<urn:uuid:")
    assert doc["n_chars"] == len(doc["text"]) > 200
    assert doc["id"] == document_id("/elsewhere/cc-whirlwind.warc.gz", doc["warc_offset"])
    # The offset points at the record: warcio can read it back from there.
    with open(path, "rb") as fh:
        fh.seek(doc["warc_offset"])
        head = gzip.GzipFile(fileobj=fh).read(200)
    assert head.startswith(b"WARC/1.0") and b"WARC-Type: response" in head


def test_wet_conversion_records_are_documents():
    got = reasons(shared_path("warc", "cc", "cc-whirlwind.warc.wet.gz"))
    assert got == Counter({"not_response": 1, None: 1})


@pytest.mark.parametrize(
    "name, expected",
    [
        # ClueWeb09 WARC/0.18, LF line ends, the separator counted in Content-Length.
        ("pywarc-sample.warc.gz", {"not_response": 1, "malformed_record": 0}),
        # One gzip member for the whole file, cut short: its response is truncated.
        ("resilipipe-sample.warc.gz", {"not_response": 1, "truncated_record": 1}),
        ("warcio-post-test.warc.gz", {"not_html": 3, "not_response": 3}),
        ("pywb-dupes.warc.gz", {"http_status": 1, "not_html": 1, None: 1}),
        ("resiliparse-block-sized-records.warc.gz", {"not_response": 3}),
        ("resiliparse-clipped.warc.gz", {"truncated_record": 1}),
    ],
)
def test_edge_files_are_counted_not_raised(name, expected):
    got = reasons(shared_path("warc", "edge", name))
    for reason, n in expected.items():
        assert got[reason] == n, (reason, got)


def test_damaged_record_error_names_file_and_offset():
    path = str(shared_path("warc", "edge", "resilipipe-sample.warc.gz"))
    (bad,) = [r for r in read_records(path) if r.reason == "truncated_record"]
    assert bad.error == (
        f"{path} at byte 405: Content-Length 64917 but 3668 bytes before the end of the gzip member"
    )


def test_missing_file_is_a_counted_error(tmp_path):
    missing = tmp_path / "gone.warc.gz"
    (rec,) = list(read_records(str(missing)))
    assert rec.reason == "malformed_record" and str(missing) in rec.error


def test_decode_declared_meta_and_detected():
    text = "Grüße aus Köln, schöne Straße"
    assert decode_html(text.encode("cp1252"), "text/html; charset=windows-1252") == text
    meta = f'<meta charset="iso-8859-1"><p>{text}</p>'.encode("latin-1")
    assert text in decode_html(meta, "text/html")
    assert decode_html(text.encode("utf-8"), None) == text
    # A wrong declaration does not stop a valid UTF-8 page from decoding.
    assert decode_html(text.encode("utf-8"), "text/html; charset=ascii") == text


def test_decode_binary_is_an_error():
    with pytest.raises(DecodeError):
        decode_html(bytes(range(256)) * 64, "text/html")


def test_time_limit_stops_a_slow_page():
    start = time.perf_counter()
    with pytest.raises(ExtractTimeout), time_limit(0.2):
        while True:
            sum(range(1000))
    assert time.perf_counter() - start < 2


@pytest.mark.parametrize("extractor", ["trafilatura", "resiliparse"])
def test_extractors_keep_article_drop_chrome(extractor):
    paras = "".join(
        f"<p>This is sentence number {i} of a long article about rivers and their valleys.</p>"
        for i in range(12)
    )
    html = (
        "<html><body><nav><a href='/'>Home</a> <a href='/c'>Contact us today</a></nav>"
        f"<article><h1>Rivers</h1>{paras}</article>"
        "<footer>Cookie settings | Privacy policy</footer></body></html>"
    )
    text, fallback = make_extractor(ExtractConfig(extractor=extractor))(html, None)
    assert "sentence number 11" in text and not fallback
    assert "Cookie settings" not in text


def test_lost_articles_are_re_extracted():
    """Real pages whose article the fast path loses (laid out in <div>s, or hidden from
    its precision-first rules): the fallback extracts them, and says so."""
    import trafilatura

    root = shared_path("pages", "trafilatura-cache")
    cfg = ExtractConfig()
    for name in ("spiegel.de.albtraum.html", "laviedesidees.fr.evaluation.html",
                 "rnz.de.witzel.html", "lanouvellerepublique.fr.martin.html"):  # fmt: skip
        html = decode_html((root / name).read_bytes())
        fast, _ = make_extractor(cfg.model_copy(update={"fallback": False}))(html, None)
        text, fallback = make_extractor(cfg)(html, None)
        default = trafilatura.extract(html, deduplicate=False) or ""
        assert len(default) >= 500 and len(fast) < 0.1 * len(default), name  # lost by fast
        assert fallback and len(text) >= 0.9 * len(default), name
    # A page the fast path gets right is not re-extracted.
    paras = "".join(f"<p>Sentence {i} of a long article about rivers.</p>" for i in range(40))
    page = f"<html><body><article>{paras}</article></body></html>"
    assert make_extractor(cfg)(page, None).fallback is False


def test_long_extractions_missing_most_of_the_page_are_re_extracted():
    """A DocBook page (debian-handbook.info: its prose in <div class="para">, no <p>): the
    precise fast path finds no article frame and keeps an eighth of the text; the fallback
    takes the whole of it."""
    import trafilatura

    url = "https://debian-handbook.info/browse/en-US/stable/sect.other-security-considerations.html"
    with (shared_path("warc", "docs-crawl") / "docs-crawl-00002.warc.gz").open("rb") as f:
        record = next(
            r
            for r in ArchiveIterator(f)
            if r.rec_type == "response" and r.rec_headers.get_header("WARC-Target-URI") == url
        )
        html = decode_html(record.content_stream().read(), "text/html; charset=utf-8")
    cfg = ExtractConfig()
    fast, _ = make_extractor(cfg.model_copy(update={"fallback": False}))(html, None)
    text, fallback = make_extractor(cfg)(html, None)
    default = trafilatura.extract(html, deduplicate=False) or ""
    assert 1000 < len(fast) < 0.2 * len(default)
    assert fallback and len(text) >= 0.9 * len(default)
    assert "Security is not just a technical problem" in text


def test_trafilatura_text_unchanged_by_speed_ups():
    """The C element-class lookup and the curate.extract.fast_xpath rewrites change no text,
    on pages of the extraction benchmark and on documentation pages (most of which take
    trafilatura's whole-page recovery path), and both are given back after each call."""
    import trafilatura
    import trafilatura.xpaths
    from lxml import etree
    from lxml.html import FormElement, fromstring
    from trafilatura.utils import HTML_PARSER

    root = shared_path("pages", "extraction-benchmark")
    pages = [
        decode_html(gzip.decompress(p.read_bytes()))
        for p in sorted((root / "html").glob("*.html.gz"))[:80]
    ]
    warc = shared_path("warc", "docs-crawl") / "docs-crawl-00003.warc.gz"
    with warc.open("rb") as f:
        pages += [
            decode_html(r.content_stream().read(), r.http_headers.get_header("Content-Type"))
            for r in ArchiveIterator(f)
            if r.rec_type == "response"
            and r.http_headers.get_statuscode() == "200"
            and "html" in (r.http_headers.get_header("Content-Type") or "")
        ][:60]
    cfg = ExtractConfig(fallback=False)  # the fast path alone (the fallback: tested below)
    ours = make_extractor(cfg)
    for i, html in enumerate(pages):
        plain = trafilatura.extract(
            html, fast=cfg.fast, favor_precision=cfg.favor_precision,
            include_comments=cfg.include_comments, include_tables=cfg.include_tables,
            deduplicate=False,
        )  # fmt: skip
        assert ours(html, None).text == (plain or "").strip(), i
    # Both were only lent: trafilatura's parser gives form elements their class again, and
    # its expression lists hold its own expressions.
    form = fromstring("<html><body><form></form></body></html>", parser=HTML_PARSER)
    assert isinstance(form.find(".//form"), FormElement)
    assert type(trafilatura.xpaths.OVERALL_DISCARD_XPATH[0]) is etree.XPath
