"""Write the embedded demo crawl: a few hundred pages as gzipped WARC files + ground truth.

Deterministic: same code, same bytes (fixed record ids, dates and RNG seed). Every page has
a ``kind`` in ``truth.json`` so tests and later stages can check what they did to it.
"""

from __future__ import annotations

import gzip
import html
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from curate.demo.texts import (
    BOILERPLATE_LINES,
    DEMO_BENCHMARK,
    FOREIGN,
    SLOTS,
    SPAM_LINES,
    TOPICS,
)
from curate.extract.records import document_id

SEED = 20240301
N_FILES = 4
_BASE_DATE = datetime(2024, 3, 1, tzinfo=UTC)
_NS = uuid.UUID("6f1c1b1e-5d55-4c8e-9a55-0c5e2f3a9d10")
ARTICLE_HOSTS = [
    "news.example.com",
    "blog.example.org",
    "en.wikipedia.org",
    "www.gardenforum.example",
    "journal.example.net",
    "arxiv.org",
    "github.com",
    "cityguide.example.com",
]


@dataclass
class Page:
    url: str
    kind: str
    body: bytes
    lang: str | None = None
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    truth: dict[str, Any] = field(default_factory=dict)


def _fill(sentence: str, rng: random.Random) -> str:
    return sentence.format(**{k: rng.choice(v) for k, v in SLOTS.items()})


def _paragraphs(sentences: list[str], rng: random.Random, n_par: int, per_par: tuple[int, int]):
    """Paragraphs of distinct sentences (a real article does not repeat itself)."""
    pool = rng.sample(sentences, len(sentences))
    out = []
    for _ in range(n_par):
        k = min(rng.randint(*per_par), len(pool))
        if not k:
            break
        chunk, pool = pool[:k], pool[k:]
        out.append(" ".join(_fill(s, rng) for s in chunk))
    return out


def _html_page(
    title: str,
    paragraphs: list[str],
    lang: str = "en",
    charset: str = "utf-8",
    chrome: bool = True,
    meta_charset: bool = True,
) -> str:
    nav = (
        "".join(
            f'<li><a href="/{x.lower().replace(" ", "-")}">{x}</a></li>'
            for x in BOILERPLATE_LINES[:8]
        )
        if chrome
        else ""
    )
    foot = " | ".join(BOILERPLATE_LINES[9:14]) if chrome else ""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    meta = f'<meta charset="{charset}">' if meta_charset else ""
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head>{meta}<title>{html.escape(title)}</title></head>'
        f"<body><header><nav><ul>{nav}</ul></nav></header>"
        f"<main><article><h1>{html.escape(title)}</h1>\n{body}\n</article></main>"
        f'<aside><h3>Related</h3><ul><li><a href="/a">More stories</a></li></ul></aside>'
        f"<footer><p>{foot}</p><p>© 2024 Example Media</p></footer></body></html>"
    )


def _articles(rng: random.Random, n: int) -> list[Page]:
    pages = []
    topics = sorted(TOPICS)
    for i in range(n):
        topic = topics[i % len(topics)]
        spec = TOPICS[topic]
        title = f"{rng.choice(spec['titles'])} ({i})"
        paras = _paragraphs(spec["sentences"], rng, 4, (3, 4))
        host = ARTICLE_HOSTS[i % len(ARTICLE_HOSTS)]
        url = f"https://{host}/{topic}/article-{i:03d}.html"
        pages.append(
            Page(
                url,
                "article",
                _html_page(title, paras).encode(),
                "en",
                truth={"topic": topic, "paragraphs": paras},
            )
        )
    return pages


def _near_duplicate(page: Page, rng: random.Random, i: int) -> Page:
    paras = list(page.truth["paragraphs"])
    # Touch a few words only: a republished copy with light edits.
    j = rng.randrange(len(paras))
    words = paras[j].split()
    for _ in range(2):
        k = rng.randrange(len(words))
        words[k] = words[k].upper() if rng.random() < 0.5 else words[k] + ","
    paras[j] = " ".join(words)
    url = f"https://mirror{i % 3}.example.net/copy/{i:03d}.html"
    body = _html_page(f"Copy {i}", paras).encode()
    return Page(url, "near_duplicate", body, "en", truth={"duplicate_of": page.url})


def _boilerplate(rng: random.Random, i: int) -> Page:
    lines = rng.sample(BOILERPLATE_LINES, 14)
    body = "".join(f"<div class='menu'><a href='/x{j}'>{x}</a></div>" for j, x in enumerate(lines))
    body += f"<p>{rng.choice(BOILERPLATE_LINES)}</p>"
    page = f"<!DOCTYPE html><html><head><title>Portal {i}</title></head><body>{body}</body></html>"
    return Page(f"https://portal{i}.example.com/", "boilerplate", page.encode(), "en")


def _gibberish(rng: random.Random, i: int) -> Page:
    letters = "bcdfghjklmnpqrstvwxz"
    vowels = "aeiouy"

    def word() -> str:
        return "".join(
            rng.choice(letters) + rng.choice(vowels) * rng.randint(0, 1)
            for _ in range(rng.randint(2, 5))
        )

    paras = [" ".join(word() for _ in range(rng.randint(40, 80))) for _ in range(3)]
    return Page(
        f"https://xq{i}.example.biz/p", "gibberish", _html_page(f"zq {i}", paras).encode(), None
    )


def _spam(rng: random.Random, i: int) -> Page:
    paras = [rng.choice(SPAM_LINES) for _ in range(30)]
    return Page(
        f"https://deals{i}.example.shop/",
        "repetitive",
        _html_page("Best deals", paras).encode(),
        "en",
    )


def _foreign(rng: random.Random, lang: str, i: int) -> Page:
    paras = _paragraphs(FOREIGN[lang], rng, 3, (2, 3))
    charset = {"de": "iso-8859-1", "fr": "windows-1252"}.get(lang, "utf-8") if i == 0 else "utf-8"
    text = _html_page(f"{lang} {i}", paras, lang=lang, charset=charset, meta_charset=(lang != "fr"))
    # fr declares its charset in the HTTP header only, de in <meta> only: both paths tested.
    ctype = f"text/html; charset={charset}" if lang == "fr" and i == 0 else "text/html"
    return Page(
        f"https://{lang}.example.eu/page-{i}.html",
        "non_english",
        text.encode(charset),
        lang,
        content_type=ctype,
    )


PII_BLOCKS = [
    (
        "You can reach the organiser, {name}, at {email} or by phone on {phone}.",
        {"EMAIL_ADDRESS", "PHONE_NUMBER"},
    ),
    (
        "The old server at {ip} was replaced; payments were taken with the card {card}.",
        {"IP_ADDRESS", "CREDIT_CARD"},
    ),
    (
        "Refunds go to the account {iban}; the claim form asked for the number {ssn}.",
        {"IBAN_CODE", "US_SSN"},
    ),
]
PII_VALUES = {
    "email": ["jane.doe@example.org", "t.hughes@mail.example.com", "info@gardenclub.example.net"],
    "phone": ["+1 415-555-0132", "(212) 555-0187", "+44 20 7946 0958"],
    "ip": ["203.0.113.45", "198.51.100.23", "192.0.2.146"],
    "card": ["4111 1111 1111 1111", "5500 0000 0000 0004", "3400 0000 0000 009"],
    "iban": ["DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32"],
    "ssn": ["536-22-8913", "219-09-9999"],
}
# Look like entities, are not: PII scrubbing must leave these alone. Varied per page, so
# the repeated-line cut of dedup does not take the paragraph away.
HARD_NEGATIVES = (
    "The release notes for version 1.2.{i}.4 were published on 2024-03-{day:02d}, priced at "
    "${i}9.99, with ISBN 978-3-16-148410-0 and order number 4421-77{i:02d}."
)


def _own_paragraphs(rng: random.Random, i: int) -> list[str]:
    """Paragraphs of a page's own, so that PII and quiz pages are not copies of articles."""
    topic = sorted(TOPICS)[i % len(TOPICS)]
    return _paragraphs(TOPICS[topic]["sentences"], rng, 4, (3, 4))


def _pii(rng: random.Random, i: int) -> Page:
    template, entities = PII_BLOCKS[i % len(PII_BLOCKS)]
    values = {k: rng.choice(v) for k, v in PII_VALUES.items()}
    values["name"] = rng.choice(SLOTS["name"])
    block = template.format(**values)
    negatives = HARD_NEGATIVES.format(i=i, day=i + 1)
    paras = [*_own_paragraphs(rng, i), block, negatives]
    url = f"https://community{i}.example.org/notice.html"
    truth = {"entities": sorted(entities), "pii_text": block, "hard_negatives": negatives}
    return Page(url, "pii", _html_page(f"Notice {i}", paras).encode(), "en", truth=truth)


def _benchmark_quote(rng: random.Random, i: int) -> Page:
    item = DEMO_BENCHMARK[i % len(DEMO_BENCHMARK)]
    quote = (
        f"Here is a practice question from a quiz: {item['question']} "
        f"The answer is {item['answer']}."
    )
    paras = [*_own_paragraphs(rng, i + 3), quote]
    url = f"https://quiz{i}.example.edu/practice.html"
    truth = {"benchmark": "demo_benchmark", "item": i % len(DEMO_BENCHMARK)}
    return Page(url, "benchmark", _html_page(f"Practice {i}", paras).encode(), "en", truth=truth)


def build_pages(seed: int = SEED) -> list[Page]:
    rng = random.Random(seed)
    articles = _articles(rng, 160)
    pages = list(articles)
    for a in articles[:15]:
        dup_url = a.url.replace("https://", "https://syndicated.").replace(".html", "-copy.html")
        pages.append(Page(dup_url, "exact_duplicate", a.body, "en", truth={"duplicate_of": a.url}))
    pages += [_near_duplicate(a, rng, i) for i, a in enumerate(articles[15:30])]
    pages += [_boilerplate(rng, i) for i in range(25)]
    pages += [_gibberish(rng, i) for i in range(15)]
    pages += [_spam(rng, i) for i in range(10)]
    for lang in sorted(FOREIGN):
        pages += [_foreign(rng, lang, i) for i in range(7)]
    pages += [_pii(rng, i) for i in range(12)]
    pages += [_benchmark_quote(rng, i) for i in range(8)]
    pages.append(
        Page(
            "https://files.example.com/report.pdf",
            "not_html",
            b"%PDF-1.4\n% demo\n",
            None,
            content_type="application/pdf",
        )
    )
    pages.append(
        Page(
            "https://img.example.com/logo.png",
            "not_html",
            b"\x89PNG\r\n\x1a\n" + bytes(range(64)),
            None,
            content_type="image/png",
        )
    )
    for i in range(2):
        pages.append(
            Page(
                f"https://news.example.com/missing-{i}.html",
                "http_404",
                b"<html><body><h1>Not Found</h1></body></html>",
                None,
                status=404,
            )
        )
    pages.append(Page("https://news.example.com/old", "http_301", b"", None, status=301))
    rng.shuffle(pages)
    return pages


_REASONS = {"OK": 200, "Not Found": 404, "Moved Permanently": 301}


def _write_page(writer: WARCWriter, buf: BytesIO, page: Page, n: int) -> int:
    """Write request + response; return the response's byte offset."""
    date = (_BASE_DATE + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rid = f"<urn:uuid:{uuid.uuid5(_NS, page.url + ':request')}>"
    req = writer.create_warc_record(
        page.url,
        "request",
        http_headers=StatusAndHeaders(
            f"GET {page.url} HTTP/1.1", [("User-Agent", "curate-demo")], is_http_request=True
        ),
        warc_headers_dict={"WARC-Record-ID": rid, "WARC-Date": date},
    )
    writer.write_record(req)
    offset = buf.tell()
    status_text = {v: k for k, v in _REASONS.items()}[page.status]
    headers = [("Content-Type", page.content_type), ("Content-Length", str(len(page.body)))]
    if page.status == 301:
        headers.append(("Location", "https://news.example.com/new"))
    resp = writer.create_warc_record(
        page.url,
        "response",
        payload=BytesIO(page.body),
        http_headers=StatusAndHeaders(f"{page.status} {status_text}", headers, protocol="HTTP/1.1"),
        warc_headers_dict={
            "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(_NS, page.url)}>",
            "WARC-Date": date,
        },
    )
    writer.write_record(resp)
    return offset


def reference_text(seed: int = SEED, n_paragraphs: int = 3000) -> str:
    """Clean English prose from the articles' sentence bank, one paragraph a line: what the
    demo's perplexity model is trained on (its own random stream, so the crawl is unchanged)."""
    rng = random.Random(seed + 1)
    out = []
    for _ in range(n_paragraphs):
        topic = TOPICS[rng.choice(sorted(TOPICS))]["sentences"]
        out += _paragraphs(topic, rng, 1, (3, 6))
    return "\n".join(out) + "\n"


def classifier_texts(seed: int = SEED, n: int = 400) -> tuple[str, str]:
    """Training documents for the demo's quality classifier, blank-line separated: clean
    prose from the sentence bank (positives) and menus, footers and sales lines like the
    demo's junk pages (negatives); their own random streams, so the crawl is unchanged."""
    paragraphs = reference_text(seed + 2, 4 * n).splitlines()
    positives = ["\n".join(paragraphs[i * 4 : (i + 1) * 4]) for i in range(n)]
    rng = random.Random(seed + 3)
    negatives = []
    for i in range(n):
        pool = BOILERPLATE_LINES if i % 2 else SPAM_LINES
        negatives.append("\n".join(rng.choice(pool) for _ in range(rng.randint(6, 20))))
    return "\n\n".join(positives) + "\n", "\n\n".join(negatives) + "\n"


def write_demo_crawl(out_dir: str | Path, seed: int = SEED, n_files: int = N_FILES) -> dict:
    """Write ``demo-crawl-0000N.warc.gz``, ``truth.json``, ``benchmark.jsonl``,
    ``reference.txt`` (training text for the demo's language model),
    ``quality-positive.txt`` / ``quality-negative.txt`` (its quality classifier's) and
    ``books.jsonl`` (an extra source for the mixture)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pages = build_pages(seed)
    records = []
    for f in range(n_files):
        name = f"demo-crawl-{f:05d}.warc.gz"
        buf = BytesIO()
        writer = WARCWriter(buf, gzip=True)
        info = writer.create_warc_record(
            name,
            "warcinfo",
            payload=BytesIO(b"software: curate demo\r\nformat: WARC/1.1\r\n"),
            warc_content_type="application/warc-fields",
            warc_headers_dict={
                "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(_NS, name)}>",
                "WARC-Date": _BASE_DATE.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "WARC-Filename": name,
            },
        )
        writer.write_record(info)
        for n, page in enumerate(pages[f::n_files]):
            resp_offset = _write_page(writer, buf, page, n * n_files + f)
            records.append(
                {
                    "id": document_id(name, resp_offset),
                    "url": page.url,
                    "kind": page.kind,
                    "lang": page.lang,
                    "file": name,
                    "offset": resp_offset,
                    "http_status": page.status,
                    **{k: v for k, v in page.truth.items() if k != "paragraphs"},
                }
            )
        if f == n_files - 1:
            # A malformed record: a gzip member that is not a WARC record at all.
            offset = len(buf.getvalue())
            buf.write(gzip.compress(b"this is not a WARC record\r\n\r\n", mtime=0))
            records.append(
                {
                    "id": document_id(name, offset),
                    "url": None,
                    "kind": "malformed",
                    "lang": None,
                    "file": name,
                    "offset": offset,
                }
            )
        (out / name).write_bytes(buf.getvalue())
    truth = {"seed": seed, "files": n_files, "records": records}
    (out / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n")
    (out / "reference.txt").write_text(reference_text(seed), encoding="utf-8")
    positives, negatives = classifier_texts(seed)
    (out / "quality-positive.txt").write_text(positives, encoding="utf-8")
    (out / "quality-negative.txt").write_text(negatives, encoding="utf-8")
    # A non-crawl source for the mixture: "books" of prose from another random stream.
    books = reference_text(seed + 1, 400).splitlines()
    with (out / "books.jsonl").open("w") as fh:
        for i in range(20):
            text = "\n".join(books[i * 20 : (i + 1) * 20])
            fh.write(json.dumps({"title": f"Book {i}", "text": text}) + "\n")
    with (out / "benchmark.jsonl").open("w") as fh:
        for item in DEMO_BENCHMARK:
            fh.write(json.dumps(item) + "\n")
    return truth
