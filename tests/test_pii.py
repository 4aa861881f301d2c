"""PII scrubbing: each entity replaced, hard negatives intact, offline, the demo's truth."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.config import PiiConfig
from curate.demo.pii_labelled import ENTITIES, labelled_documents, score
from curate.pii.scrub import PiiScrubber, scrub_batch
from tests.conftest import ROOT

ENTITY_EXAMPLES = {
    "EMAIL_ADDRESS": ("Write to Jane.Doe@Example.org today.", "<EMAIL>"),
    "PHONE_NUMBER": ("Call +44 20 7946 0958 after six.", "<PHONE>"),
    "IP_ADDRESS": ("Attacks came from 203.0.113.45 at night.", "<IP>"),
    "CREDIT_CARD": ("Charged to 4111-1111-1111-1111 yesterday.", "<CREDIT_CARD>"),
    "US_SSN": ("Her number is 536-22-8913 on the form.", "<SSN>"),
    "IBAN_CODE": ("Pay to ES91 2100 0418 4502 0005 1332 Before Friday.", "<IBAN>"),
    "US_STREET_ADDRESS": (
        "Write to 350 Fifth Avenue, Suite 3300, New York, NY 10118 soon.",
        "<ADDRESS>",
    ),
}
HARD_NEGATIVES = [
    "Upgrade to version 1.2.3.4 before the next release.",
    "It was published on 2024-03-01 and again on 12/05/2023 at 10:30:00.",
    "See ISBN 978-3-16-148410-0 for the full text, priced at $1,299.99.",
    "Your order number 4421-7789 has shipped; invoice 0049 30 1234567 is paid.",
    "The router answers on 192.168.1.20 and 10.0.0.1 inside the building.",
    "The card 4111 1111 1111 1112 fails the Luhn check.",
    "Chapter 12 Main Results lists the figures; Route 66 runs west.",
    "Tonight 3 Park Avenue shows a new play.",
    "The Model 3 Drive unit and version 2.1 Street map were updated.",
]


@pytest.mark.parametrize(
    "text, address",
    [
        ("Mail it to 1600 Pennsylvania Avenue NW, Washington, DC 20500 today.",
         "1600 Pennsylvania Avenue NW, Washington, DC 20500"),
        ("Address:\n42 Oak St., Apt 4B\nSpringfield, IL 62701\nThanks!",
         "42 Oak St., Apt 4B\nSpringfield, IL 62701"),
        ("Replies go to P.O. Box 1234, Austin, TX 78701.", "P.O. Box 1234, Austin, TX 78701"),
        ("We moved to 12 Cedar Hill Road, Madison, Wisconsin 53703 last year.",
         "12 Cedar Hill Road, Madison, Wisconsin 53703"),
    ],
)  # fmt: skip
def test_us_street_address_layouts(scrubber, text, address):
    found = [(r.entity_type, text[r.start : r.end]) for r in scrubber.find(text, "en")]
    assert found == [("US_STREET_ADDRESS", address)]


@pytest.fixture(scope="module")
def scrubber() -> PiiScrubber:
    return PiiScrubber(PiiConfig())


@pytest.mark.parametrize("entity", ENTITIES)
def test_each_entity_found_and_replaced(scrubber, entity):
    text, tag = ENTITY_EXAMPLES[entity]
    new, counts = scrubber.scrub(text, "en")
    assert counts == {entity: 1}
    assert tag in new
    assert not any(ch.isdigit() for ch in new) or entity == "EMAIL_ADDRESS"


def test_hard_negatives_left_alone(scrubber):
    for text in HARD_NEGATIVES:
        assert scrubber.scrub(text, "en") == (text, {}), text


def test_private_ips_scrubbed_only_when_asked():
    text = HARD_NEGATIVES[4]
    new, counts = PiiScrubber(PiiConfig(scrub_private_ips=True)).scrub(text, "en")
    assert counts == {"IP_ADDRESS": 2} and "192.168" not in new


def test_pattern_entities_apply_to_any_language(scrubber):
    text = "Schreiben Sie an info@verein.example.com oder rufen Sie +49 30 901820 an."
    new, counts = scrubber.scrub(text, "de")
    assert counts == {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}
    assert new == "Schreiben Sie an <EMAIL> oder rufen Sie <PHONE> an."


def test_replacement_policy_placeholder_and_salted_hash():
    cfg = PiiConfig(replace={"EMAIL_ADDRESS": "email@example.com", "CREDIT_CARD": "hash"})
    s = PiiScrubber(cfg)
    text = "a@b.org paid with 4111 1111 1111 1111, then 4111 1111 1111 1111 and 5555555555554444."
    new, _ = s.scrub(text, "en")
    assert new.startswith("email@example.com paid with <CREDIT_CARD:")
    tokens = [w.strip(",.") for w in new.split() if w.startswith("<CREDIT_CARD:")]
    assert len(tokens) == 3 and tokens[0] == tokens[1] != tokens[2]
    other_salt = PiiScrubber(cfg.model_copy(update={"hash_salt": "another-salt-0123456"}))
    assert other_salt.scrub(text, "en")[0] != new


def test_ner_entities_are_opt_in():
    text = "Yesterday Maria Costa moved from London to Paris."
    assert PiiScrubber(PiiConfig()).scrub(text, "en") == (text, {})
    s = PiiScrubber(PiiConfig(entities=["PERSON", "LOCATION"]))
    new, counts = s.scrub(text, "en")
    assert counts == {"PERSON": 1, "LOCATION": 2}
    assert new == "Yesterday <PERSON> moved from <LOCATION> to <LOCATION>."
    assert s.scrub(text, "fr") == (text, {})  # the spaCy model is English


def test_labelled_set_precision_and_recall(scrubber):
    docs = labelled_documents(300)
    found = [[(r.start, r.end, r.entity_type) for r in scrubber.find(d.text, "en")] for d in docs]
    for entity, r in score(docs, found).items():
        assert r["labelled"] > 20, entity
        assert r["recall"] == 1.0 and r["precision"] >= 0.95, (entity, r)


@pytest.mark.parametrize(
    "text, number",
    [
        ("Tel. 275-887-4942", "275-887-4942"),
        ("Call our office at +1 486 258 4003 for details.", "+1 486 258 4003"),
        ("Fax: (624) 555-0199, any time.", "(624) 555-0199"),
        ("Téléphone : 837.344.9786 du lundi au vendredi.", "837.344.9786"),
        ("Telefon: 0301 23 45 67 89 (Montag bis Freitag).", "0301 23 45 67 89"),
        ("Para reservas, llame al 378-781-2865.", "378-781-2865"),
        ("お電話は 03-1234-5678 まで", "03-1234-5678"),
    ],
)
def test_phone_numbers_in_phone_context(scrubber, text, number):
    """Phone-shaped numbers after a phone word are scrubbed even where libphonenumber
    rejects them (unassigned area codes; regions outside pii.phone_regions)."""
    import phonenumbers

    if "+1" in number or number[0] in "(2345678":
        assert not phonenumbers.is_valid_number(phonenumbers.parse(number, "US"))
    new, counts = scrubber.scrub(text, "en")
    assert counts == {"PHONE_NUMBER": 1} and new == text.replace(number, "<PHONE>")


@pytest.mark.parametrize(
    "text",
    [
        "Phone sales 2019-2023 rose by a third.",
        "Call version 1.2.3 of the library, then call 2024-05-17 the release day.",
        "Call the order number 4421-7789-1123 line if it has not shipped.",
        "Phone: see ISBN 978-0-306-40615-7 in the catalogue.",
        "Call us about the price: $1,250,000.",
        "Call the router at 192.168.10.20 first.",
    ],
)
def test_phone_words_before_other_numbers(scrubber, text):
    assert scrubber.scrub(text, "en")[1].get("PHONE_NUMBER") is None


def test_prescan_finds_what_whole_documents_give():
    """The pre-scan only skips text where presidio would find nothing."""
    docs = [d.text for d in labelled_documents(150, seed=3)]
    fast = PiiScrubber(PiiConfig())
    whole = PiiScrubber(PiiConfig(prescan=False))
    for text in docs:
        assert _spans(fast.find(text, "en")) == _spans(whole.find(text, "en"))


def _spans(results) -> list[tuple[int, int, str]]:
    return [(r.start, r.end, r.entity_type) for r in results]


def test_scrub_batch_columns(scrubber):
    batch = pa.RecordBatch.from_pydict(
        {
            "id": ["a", "b"],
            "text": ["Mail me: x.y@example.org", "nothing here"],
            "n_chars": pa.array([24, 12], pa.int32()),
            "language": ["en", "en"],
        }
    )
    out = scrub_batch(batch, scrubber).to_pydict()
    assert out["text"] == ["Mail me: <EMAIL>", "nothing here"]
    assert out["n_chars"] == [16, 12]
    assert out["pii_counts"] == [[{"entity": "EMAIL_ADDRESS", "count": 1}], []]


def test_offline_no_connection_attempted(tmp_path):
    """Building every engine (spaCy NER included) and scrubbing opens no socket."""
    script = textwrap.dedent(
        """
        import socket
        attempts = []
        def refuse(*args, **kwargs):
            attempts.append(args)
            raise OSError("network disabled in this test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from curate.config import PiiConfig
        from curate.pii.scrub import PiiScrubber
        s = PiiScrubber(PiiConfig(entities=["EMAIL_ADDRESS", "PERSON", "PHONE_NUMBER"]))
        new, counts = s.scrub("Tom Hughes: t.hughes@mail.example.com, +1 415-555-0132", "en")
        assert counts == {"PERSON": 1, "EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}, counts
        assert attempts == [], attempts
        print("offline ok")
        """
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "offline ok" in done.stdout
    assert "publicsuffix" not in done.stderr


def test_pii_loads_presidio_in_the_stage_only_and_without_torch():
    """The driver's start-up does not import presidio; a worker building its scrubber does,
    without torch (the loader's extra), which spaCy's thinc would pull in at ~1 s a
    worker and presidio never uses. torch stays importable afterwards."""
    pytest.importorskip("torch")
    script = textwrap.dedent(
        """
        import sys
        import pyarrow as pa
        import curate.pipeline
        from curate.config import PiiConfig
        from curate.stages import pii
        print("presidio_analyzer" in sys.modules)
        pii._scrub_kernel(PiiConfig().model_dump_json(), pa.schema([]))()
        print("presidio_analyzer" in sys.modules, "torch" in sys.modules)
        import torch
        print(torch.tensor([1]).sum().item())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "True", "False", "1"]


def test_demo_pii_pages_scrubbed(demo_run, demo_truth):
    stats, out = demo_run
    docs = pq.read_table(out / "documents").to_pylist()
    pii_docs = [d for d in docs if demo_truth[d["id"]]["kind"] == "pii"]
    assert pii_docs, "PII pages should survive the filters"
    for doc in pii_docs:
        truth = demo_truth[doc["id"]]
        assert sorted(c["entity"] for c in doc["pii_counts"]) == truth["entities"]
        assert truth["pii_text"] not in doc["text"]
        assert truth["hard_negatives"] in doc["text"]
    others = [d for d in docs if demo_truth[d["id"]]["kind"] != "pii"]
    assert all(not d["pii_counts"] for d in others)
    pii = stats["pii"]
    assert pii["policy"]["CREDIT_CARD"] == "hash"
    found = sum(c["count"] for d in pii_docs for c in d["pii_counts"])
    assert sum(e["found"] for e in pii["entities"].values()) == found
    pii_stage = next(s for s in stats["stages"] if s["name"] == "pii")
    assert pii_stage["in"] == pii_stage["out"]


def test_prescan_on_real_common_crawl_pages(scrubber):
    """On real crawled text the windows find exactly what whole documents give."""
    from curate.config import ExtractConfig
    from curate.extract.records import ingest_file
    from tests.conftest import shared_path

    path = shared_path("warc", "cc", "CC-MAIN-2020-34-sample.warc.gz")
    texts = [
        r["text"]
        for batch in ingest_file(str(path), ExtractConfig())
        for r in batch.to_pylist()
        if r["reason"] is None
    ]
    assert len(texts) >= 10
    whole = PiiScrubber(PiiConfig(prescan=False))
    for text in texts:
        assert _spans(scrubber.find(text, "en")) == _spans(whole.find(text, "en"))
