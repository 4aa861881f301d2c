"""FastXPath gives the element lists of the lxml expressions it rewrites."""

from __future__ import annotations

import gzip
import re
from copy import deepcopy

import pytest
from lxml import etree
from lxml.html import document_fromstring

from curate.extract.decode import decode_html
from curate.extract.fast_xpath import DELIM, FastXPath, tag_unions
from tests.conftest import shared_path

NS = {"re": "http://exslt.org/regular-expressions"}

PAGE = """<html><body>
<div id="main" class="share-box">first attribute is the id</div>
<div class="share-box" id="main">first attribute is the class</div>
<div class="SHARE">upper case</div>
<div class="\u212aelvin">Kelvin sign, folds to k</div>
<section><p class="">empty class</p><p>no attributes</p>
<span style="display:hidden">s</span></section>
</body></html>"""


def both(path: str, tree) -> tuple[list, list]:
    original = etree.XPath(path, namespaces=NS)
    fast = FastXPath.of(original)
    assert fast is not None, path
    return original(tree), fast(tree)


@pytest.mark.parametrize(
    "path",
    [
        ".//div[re:test(@id|@class, '^share')]",  # the first attribute in source order
        ".//div[re:test(@class|@id, '^main')]",
        ".//*[re:test(@class, 'share', 'i')]",
        ".//*[re:test(@class, 'kelvin', 'i')]",  # Unicode case folding, as lxml compiles it
        ".//*[re:test(@class, '^$')]",  # matches the empty string: elements without it too
        ".//p[re:test(@class, 'x*') and not(re:test(@id, 'y'))]",
        ".//*[self::div or self::span][re:test(@id|@style, 'hidden') or @lang='en']",
        "(.//*[re:test(@class, 'box')])[1]",
        ".//section[.//*[re:test(@style, 'display')]]",
        # tag filters alone, and with the regex tests
        ".//*[self::div or self::p][@class]",
        "(.//*[self::p or self::div][not(@id)])[2]|.//*[self::span]",
        ".//*[self::section or self::div][re:test(@class, 'box', 'i')]/p",
        ".//*[self::div or self::section][.//*[self::p or self::span][@style]]",
        ".//*[self::div or self::section][count(p) > 1 or string-length(@class) = 0]",
    ],
)
def test_same_elements_as_lxml(path):
    tree = document_fromstring(PAGE)
    # the page, a detached copy, an inner element and the element tree as the context
    for context in (tree, deepcopy(tree), tree.find(".//section"), tree.getroottree()):
        original, fast = both(path, context)
        assert fast == original, context


@pytest.mark.parametrize("limit", [10_000, 1])
def test_matches_are_cached_and_recomputed_per_document(monkeypatch, limit):
    """Across documents, and with the cache cleared on every call (limit 1)."""
    monkeypatch.setattr("curate.extract.fast_xpath._CACHE_LIMIT", limit)
    path = etree.XPath(".//div[re:test(@class, '^share')]", namespaces=NS)
    fast = FastXPath.of(path)
    first = document_fromstring("<div class='share'>a</div><div class='other'>b</div>")
    second = document_fromstring("<div class='other'>a</div><div class='share x'>b</div>")
    for tree in (first, second, first):
        assert [d.text for d in fast(tree)] == [d.text for d in path(tree)]


def test_a_signal_during_the_regex_leaves_the_cache_true():
    """The extraction time limit raises from inside a regex search; the value it struck
    must be tested again next time, not remembered as a miss."""
    from curate.extract.fast_xpath import _Test

    class Interrupted(Exception):
        pass

    class StruckOnce:
        struck = False

        def search(self, value):
            if not self.struck:
                self.struck = True
                raise Interrupted
            return re.search("^share", value)

    test = _Test(("class",), StruckOnce())
    with pytest.raises(Interrupted):
        test.matching({"share"})
    assert test.matching({"share", "other"}) == {"share"}


def test_values_holding_the_delimiter_are_answered_by_the_original():
    tree = document_fromstring(f"<div class='a{DELIM}share'>a</div><div class='share'>b</div>")
    original, fast = both(".//div[re:test(@class, 'share')]", tree)
    assert [d.text for d in fast] == [d.text for d in original] == ["a", "b"]


@pytest.mark.parametrize(
    "path",
    [
        ".//div[@class='x']",  # nothing to rewrite
        ".//div[re:test(., 'x')]",  # tests text, not an attribute
        ".//div[re:test(@class, 'x') or re:match(@id, 'y')]",  # another re: function
        ".//div[re:test(@class, $pattern)]",
        ".//div[re:test(@class, 'x') and @class=$v]",  # the expression's own variables
        ".//*[self::div or self::p][@class][1]",  # the first per parent: position counts
        ".//*[self::div][string-length(@id)]",  # a number, so a position too
        ".//*[self::div][@width - @height]",
        ".//*[self::div][@id and position() > 1]",
    ],
)
def test_leaves_what_it_cannot_rewrite_exactly(path):
    assert FastXPath.of(etree.XPath(path, namespaces=NS)) is None


def test_tag_unions_rewrite_only_whole_position_free_filters():
    assert tag_unions(".//*[self::div or self::p][@a]") == "(.//div|.//p)[@a]"
    assert tag_unions("(.//*[self::a])[1] | .//*[self::b]/c") == "((.//a))[1] | (.//b)/c"
    for kept in (
        ".//*[self::div][@a][last()]",
        ".//*[self::div or @id]",  # not only names
        ".//p[@title='.//*[self::div]']",  # inside a string
        ".//p[.//*[self::div]]",  # a predicate's own path keeps its form
    ):
        assert tag_unions(kept) == kept


def test_every_trafilatura_expression_on_real_pages():
    """Each list of expressions trafilatura prunes and selects with, on real pages of two kinds."""
    import trafilatura.xpaths

    html_dir = shared_path("pages", "extraction-benchmark") / "html"
    paths = sorted(html_dir.glob("*.html.gz"))[:40]
    trees = [document_fromstring(decode_html(gzip.decompress(p.read_bytes()))) for p in paths]
    rewritten = 0
    for value in vars(trafilatura.xpaths).values():
        if not (isinstance(value, list) and value and isinstance(value[0], etree.XPath)):
            continue
        for expression in value:
            fast = FastXPath.of(expression)
            if fast is None:
                continue
            rewritten += 1
            for tree in trees:
                assert fast(tree) == expression(tree), expression.path
    assert rewritten >= 10
