"""Quality filters on hand-made texts: pure Python, no Spark."""

import pytest

from filters.c4 import C4Quality
from filters.fineweb import FineWebQuality
from filters.gopher_quality import GopherQuality
from filters.gopher_repetition import GopherRepetition
from filters.rules import first_failure
from filters.text import count_sentences, ends_sentence, sentences_over, words
from filters.url import UrlFilter

ALL = [GopherQuality(), GopherRepetition(), C4Quality(), FineWebQuality()]
PROSE = (
    "The river runs through the valley and reaches the sea after a long journey. "
    "Farmers along its banks have grown wheat and barley for many generations. "
)


def reason(filt, text: str, lang: str | None = "en") -> str | None:
    return first_failure({filt.name: filt.signals(text, lang)}, filt.rules())


def numbered_words(n: int) -> str:
    """n distinct words of 5-6 letters with two stop words: passes every other Gopher rule."""
    body = [f"wor{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}" for i in range(n - 2)]
    return " ".join(["the", "and", *body])


@pytest.mark.parametrize("filt", [*ALL, UrlFilter()], ids=lambda f: f.name)
def test_every_rule_passes_at_its_threshold_and_fails_beyond(filt):
    for rule in filt.rules():
        if rule.op == "true":
            assert rule.fails(True) and not rule.fails(False) and not rule.fails(None)
            continue
        beyond = rule.threshold - 1e-9 if rule.op == "<" else rule.threshold + 1e-9
        assert not rule.fails(rule.threshold), rule.name
        assert rule.fails(beyond), rule.name
        assert not rule.fails(None), rule.name


@pytest.mark.parametrize(
    "n, expected", [(49, "gopher_quality.word_count_low"), (50, None), (51, None)]
)
def test_gopher_word_count_boundary(n, expected):
    assert reason(GopherQuality(), numbered_words(n)) == expected


def test_gopher_max_words():
    assert (
        reason(GopherQuality(max_words=60), numbered_words(61)) == "gopher_quality.word_count_high"
    )
    assert reason(GopherQuality(max_words=60), numbered_words(60)) is None


@pytest.mark.parametrize(
    "word, expected",
    [
        ("ab", "gopher_quality.mean_word_length_low"),
        ("abc", None),
        ("abcdefghij", None),
        ("abcdefghijk", "gopher_quality.mean_word_length_high"),
    ],
)
def test_gopher_mean_word_length_boundary(word, expected):
    text = " ".join([word] * 60)
    assert GopherQuality().signals(text, "en")["mean_word_length"] == len(word)
    assert reason(GopherQuality(min_stop_words=None), text) == expected


def test_gopher_symbols_bullets_ellipsis_alpha_stopwords():
    base = numbered_words(80)
    hashes = base + " #" * 9  # 9 hashes over 89 tokens: just over 0.1
    assert GopherQuality().signals(hashes, "en")["hash_ratio"] == pytest.approx(9 / 89)
    assert reason(GopherQuality(), hashes) == "gopher_quality.hash_ratio_high"
    assert reason(GopherQuality(), base + " #" * 8) is None  # 8/88 < 0.1
    bullets = "\n".join([f"- {base}"] * 10)
    assert reason(GopherQuality(), bullets) == "gopher_quality.bullet_lines_high"
    nine_of_ten = "\n".join([f"- {base}"] * 9 + [base])  # exactly 0.9: kept
    assert GopherQuality().signals(nine_of_ten, "en")["bullet_lines_ratio"] == 0.9
    assert reason(GopherQuality(), nine_of_ten) is None
    dots = "\n".join([base + " ..."] * 4 + [base] * 6)
    assert (
        reason(GopherQuality(max_symbol_word_ratio=None), dots)
        == "gopher_quality.ellipsis_lines_high"
    )
    numbers = base + " " + " ".join(str(i) for i in range(40))
    assert reason(GopherQuality(), numbers) == "gopher_quality.alpha_words_low"
    no_stop = " ".join([*numbered_words(60).split()[2:], "cats", "dogs"])
    assert reason(GopherQuality(), no_stop) == "gopher_quality.stop_words_low"


def test_gopher_repetition_lines_and_ngrams():
    vocab = numbered_words(202).split()[2:]
    unique = "\n".join(" ".join(vocab[i * 20 : (i + 1) * 20]) + "." for i in range(10))
    assert reason(GopherRepetition(), unique) is None
    repeated = "\n".join([PROSE] * 4 + [f"{PROSE} {i}" for i in range(6)])
    sig = GopherRepetition.signals(repeated, "en")
    assert sig["dup_line_frac"] == pytest.approx(3 / 10)  # at the threshold: not a failure
    assert (
        reason(
            GopherRepetition(
                max_dup_line_char_frac=None,
                max_dup_5gram_char_frac=None,
                max_dup_6gram_char_frac=None,
                max_dup_7gram_char_frac=None,
                max_dup_8gram_char_frac=None,
                max_dup_9gram_char_frac=None,
                max_dup_10gram_char_frac=None,
            ),
            repeated,
        )
        is None
    )
    five = "\n".join([PROSE] * 5 + [f"{PROSE} {i}" for i in range(5)])
    assert reason(GopherRepetition(), five) == "gopher_repetition.dup_line_frac"
    spam = "buy cheap watches " * 50
    assert reason(GopherRepetition(), spam).startswith("gopher_repetition.top_")


def test_c4_rules():
    lines = "\n".join(f"This is sentence number {i} of the page." for i in range(5))
    assert reason(C4Quality(), lines) is None
    assert reason(C4Quality(), "\n".join(lines.splitlines()[:4])) == "c4.too_few_sentences"
    assert reason(C4Quality(), lines + "\nLorem ipsum dolor sit amet.") == "c4.lorem_ipsum"
    assert reason(C4Quality(), lines + "\nvar x = {a: 1} is code.") == "c4.curly_bracket"
    # Lines without terminal punctuation or with fewer than 3 words do not count.
    menu = lines + "\nHome\nAbout us today"
    assert C4Quality().signals(menu, "en")["lines_kept_frac"] == pytest.approx(5 / 7)
    policy = "\n".join(f"Read our privacy policy number {i}." for i in range(5))
    assert reason(C4Quality(), policy) == "c4.too_few_sentences"
    assert reason(C4Quality(bad_words=("darn",)), lines + "\nA darn good page.") == "c4.bad_words"


def test_fineweb_rules():
    good = "\n".join(f"The valley has fields and a river, line {i}." for i in range(10))
    assert reason(FineWebQuality(), good) is None
    no_punct = "\n".join(f"The valley has fields and a river line {i}" for i in range(10))
    assert reason(FineWebQuality(), no_punct) == "fineweb.line_punct_ratio_low"
    short = "\n".join(
        ["Short line."] * 7 + [f"A long enough line of text to pass it, {i}." for i in range(3)]
    )
    assert FineWebQuality().signals(short, "en")["short_line_ratio"] == 0.7
    assert reason(FineWebQuality(max_dup_line_char_ratio=None), short) == "fineweb.short_lines_high"
    dup = good + "\n" + good.splitlines()[0]
    assert reason(FineWebQuality(), dup) == "fineweb.dup_line_chars_high"
    listy = "\n".join(f"Item {i}." for i in range(20))
    assert (
        reason(FineWebQuality(max_short_line_ratio=None), listy) == "fineweb.newlines_per_word_high"
    )


@pytest.mark.parametrize(
    "text, repetition", [("", "gopher_repetition.empty"), ("   \n\n\t  ", None)]
)
def test_empty_and_whitespace_text(text, repetition):
    assert reason(GopherQuality(), text) == "gopher_quality.word_count_low"
    assert reason(GopherRepetition(), text) == repetition  # datatrove: only "" is empty
    assert reason(C4Quality(), text) == "c4.too_few_sentences"
    assert reason(FineWebQuality(), text) == "fineweb.empty"


def test_cjk_is_judged_by_characters_not_spaces():
    zh = "城市图书馆在周末延长了开放时间，方便学生们学习。" * 4
    assert len(words("城市图书馆", "zh")) == 5
    assert len(words("城市图书馆", "en")) == 1  # as spaCy's English tokenizer
    sig = GopherQuality().signals(zh, "zh")
    assert sig["n_words"] == 4 * 22  # Han characters; the two punctuation marks are not words
    assert sig["mean_word_length"] is None and sig["n_stop_words"] is None
    assert reason(GopherQuality(), zh, "zh") is None
    assert ends_sentence("方便学生们学习。") and not ends_sentence("方便学生们学习")
    assert count_sentences("第一句。第二句！第三句", "zh") == 3
    assert count_sentences("Mail me at a@b.org. Or not! Fine... e.g. this", "en") == 3


def test_sentence_count_per_chunk_equals_the_count_over_tokens():
    """count_sentences runs each whitespace chunk's tokens from each state once; the
    result must be spaCy's sentencizer over the line's tokens."""
    lines = [
        "", "   ", "Hi", ".", "...", "!!", "? Yes", "a. b", "a.b. c", "(See Fig. 2.) Then",
        "Dr. Smith arrived. He left!", "\"Done.\" Next", "Wait... what?! Ok.", "e.g. this",
        "don't stop. Go", "U.S. policy. It", "x ; . y", "end.) (start", "1. 2. 3.", "« Oui. » Non",
    ]  # fmt: skip
    for line in lines:
        assert count_sentences(line, "en") == sentences_over(words(line, "en"))[0], line
    assert count_sentences("Dr. Smith arrived. He left!", "en") == 2


def test_non_english_is_not_judged_by_english_stop_words():
    de = " ".join(["Die Stadtbibliothek hat ihre Öffnungszeiten am Wochenende verlängert."] * 8)
    assert GopherQuality().signals(de, "de")["n_stop_words"] is None
    assert reason(GopherQuality(), de, "de") is None


def test_url_filter(tmp_path):
    """The list file is read by the stage (all_filters, through the storage layer) and
    merged into the filter's own list; the filter itself reads no file."""
    from curate.config import Config
    from curate.quality import all_filters
    from curate.storage import use

    listing = tmp_path / "domains.txt"
    listing.write_text("# blocked\nbad.example\n")
    url = {"blocked_domains_file": str(listing), "blocked_words": ["casino"]}
    cfg = Config.model_validate(
        {"input": {"paths": ["-"]}, "output": {"dir": "-"}, "quality": {"url_filter": url}}
    )
    filt = all_filters(cfg, use(None))["url_filter"]
    assert filt.blocked_domains == ("bad.example",)
    assert (
        UrlFilter(blocked_domains_file=str(listing)).signals("https://bad.example/")[
            "blocked_domain"
        ]
        is False
    )
    check = lambda url: first_failure({filt.name: filt.signals(url)}, filt.rules())  # noqa: E731
    assert check("https://www.bad.example/page") == "url_filter.blocked_domain"
    assert check("https://notbad.example/page") is None
    assert check("https://news.example.com/best-casino-bonus") == "url_filter.blocked_words"
    assert check("https://news.example.com/casinos-history") is None
    assert check(None) is None


def test_words_follow_spacy_english_rules():
    text = (
        "Don't edit /etc/apt/sources.list (see fstab(5) or https://deb.debian.org/debian). "
        "Use --install, e.g. with user@lists.example.org; it cannot fail... End.Start"
    )
    assert words(text, "en") == [
        "Do", "n't", "edit", "/etc", "/", "apt", "/", "sources.list", "(", "see", "fstab(5",
        ")", "or", "https://deb.debian.org/debian", ")", ".", "Use", "--install", ",", "e.g.",
        "with", "user@lists.example.org", ";", "it", "can", "not", "fail", "...", "End", ".",
        "Start",
    ]  # fmt: skip


def test_rule_columns_decide_as_rules_do(spark):
    """The Spark column of every rule is built from the Rule the tests above check: at,
    just below and just above each threshold, and for a missing signal, the column
    Spark evaluates and Rule.fails give the same decision."""
    from pyspark.sql import functions as F

    from curate.config import Config
    from curate.quality import rule_column, rules

    cfg = Config.model_validate({"input": {"paths": ["-"]}, "output": {"dir": "-"}})
    checked = 0
    for rule in rules(cfg):
        group, signal = rule.signal.split(".", 1)
        if rule.op == "true":
            values, ddl = [True, False, None], "boolean"
        else:
            t = float(rule.threshold)
            values, ddl = [t - 1, t - 1e-6, t, t + 1e-6, t + 1, None], "double"
        df = spark.createDataFrame([(v,) for v in values], f"v {ddl}")
        df = df.select(F.struct(F.col("v").alias(signal)).alias(group))
        got = [r[0] for r in df.select(rule_column(rule)).collect()]
        assert got == [rule.name if rule.fails(v) else None for v in values], rule
        checked += 1
    assert checked >= 20


def test_stop_words_of_another_language_count():
    """quality.gopher_quality.stop_words (FineWeb-2's lists): the language's own list."""
    filt = GopherQuality(stop_words={"de": ("der", "und", "die")})
    assert filt.signals("der Hund und die Katze", "de")["n_stop_words"] == 3
    assert filt.signals("der Hund und die Katze", "fr")["n_stop_words"] is None


def test_ut1_categories(tmp_path):
    """A UT1-shaped tree: the chosen categories' domains are blocked, the others not; a
    category the copy lacks fails before Spark, naming the ones it has."""
    from curate.config import Config, ConfigError
    from curate.lists import check_lists
    from curate.quality import all_filters
    from curate.storage import use

    for category, domain in (("adult", "adult.example"), ("gambling", "bets.example"),
                             ("phishing", "fish.example")):  # fmt: skip
        (tmp_path / category).mkdir()
        (tmp_path / category / "domains").write_text(f"{domain}\n")
    (tmp_path / "adult" / "urls").write_text("other.example/page\n")

    def config(categories):
        url = {"ut1_dir": str(tmp_path), "ut1_categories": categories}
        return Config.model_validate(
            {"input": {"paths": ["-"]}, "output": {"dir": "-"}, "quality": {"url_filter": url}}
        )

    cfg = config(["adult", "gambling"])
    check_lists(cfg, use(None))
    filt = all_filters(cfg, use(None))["url_filter"]
    urls = ("https://www.adult.example/", "http://bets.example/x", "https://fish.example/")
    assert [filt.signals(u)["blocked_domain"] for u in urls] == [True, True, False]
    assert UrlFilter().ut1_categories == ("adult",)  # FineWeb's choice
    with pytest.raises(ConfigError, match="has: adult, gambling, phishing") as err:
        check_lists(config(["malware"]), use(None))
    assert "malware" in str(err.value)


@pytest.mark.parametrize(
    "text",
    [
        "It opened in Oct. 2019 and closed in Jan. 2020.",
        "She holds a Ph.D. in physics; see c. 1850 and r. 12.",
        "Երևան-ի բնակիչները և Հայաստան-ում",  # Armenian: a hyphenated suffix stays whole
        "தமிழ்நாடு. இந்தியா.",  # a full stop after a combining vowel sign
        "It was 23°C outside, the lens is 69mm and the file 12kb.",
        "Nice :) and sad :( and wink ;) ok):",
        "U.S. and e.g. don't can't gonna Cannot",
        "See https://deb.debian.org/debian and user@lists.debian.org (fstab(5)).",
    ],
)
def test_words_are_spacys_tokens(text):
    """Word splitting equals spaCy's English tokenizer (datatrove's reference) itself."""
    import spacy

    tokenizer = spacy.blank("en").tokenizer
    assert words(text) == [t.text for t in tokenizer(text) if t.text.strip()]


def test_gopher_repetition_removes_empty_text():
    """As datatrove's GopherRepetitionFilter: an empty document is removed ("empty")."""
    filt = GopherRepetition()
    assert first_failure({filt.name: filt.signals("", "en")}, filt.rules()) == (
        "gopher_repetition.empty"
    )
    assert filt.signals("Some words here.", "en")["empty"] is False


def _top_ngram_chars(tokens: list[str], n: int) -> int | None:
    """The plain definition (datatrove's find_top_duplicate), for the compiled kernel."""
    from collections import Counter

    if len(tokens) < n:
        return None
    counts = Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    gram, count = counts.most_common(1)[0]
    return (sum(map(len, gram)) + n - 1) * count


def _dup_ngram_chars(tokens: list[str], n: int) -> int:
    """The plain definition (datatrove's find_all_duplicate), for the compiled kernel."""
    seen: set[tuple[str, ...]] = set()
    chars, i = 0, 0
    while i < len(tokens) - n + 1:
        gram = tuple(tokens[i : i + n])
        if gram in seen:
            chars += sum(map(len, gram))
            i += n
        else:
            seen.add(gram)
            i += 1
    return chars


@pytest.mark.parametrize("seed", range(40))
def test_gopher_repetition_kernel_equals_plain_definition(seed):
    """Token sequences from tiny vocabularies (many repeats, ties between n-grams of
    different lengths, overlapping repeats) and of every length around the n-gram sizes."""
    import random

    import numpy as np

    from filters.gopher_repetition import DUP_NGRAMS, TOP_NGRAMS, _ngram_chars, token_ids

    rng = random.Random(seed)
    vocab = ["a", "bb", "ccc", "dddd", "the", "x" * 9][: rng.randint(1, 6)]
    tokens = [rng.choice(vocab) for _ in range(rng.choice([0, 1, 3, 4, 9, 11, 40, 300]))]
    ids, lengths = token_ids(tokens)
    top, dup = _ngram_chars(ids, lengths, np.array(TOP_NGRAMS), np.array(DUP_NGRAMS))
    assert [None if t < 0 else t for t in top.tolist()] == [
        _top_ngram_chars(tokens, n) for n in TOP_NGRAMS
    ]
    assert dup.tolist() == [_dup_ngram_chars(tokens, n) for n in DUP_NGRAMS]
