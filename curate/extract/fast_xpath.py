"""Exact rewrites of XPath expressions, as trafilatura writes them, that libxml2 and lxml
evaluate with less work. The results are the same element lists in the same order.

1. Tag filters. ``.//*[self::div or self::p][P]`` evaluates one ``self::`` node test per
   name on every element; ``(.//div|.//p)[P]`` has libxml2 match the names while it walks,
   2-3x faster for that step. Same nodes, in document order, as long as no later predicate
   of the step depends on position: one that calls position() or last(), or whose value
   is a number (``.//*[self::div][P][1]``), leaves the step as it is.

2. ``re:test(@attr, 'pattern')``. lxml answers each EXSLT ``re:test`` through a Python
   callback: on a page of 400 elements an expression with three of them makes 1,200 round
   trips through its extension-function machinery, most of them to test an empty string.
   The same answers come cheaper the other way round: collect the distinct values of the
   tested attributes in C, run the regex once per distinct value (cached across pages), and
   hand the matching values to a regex-free expression as one delimited string variable:

       re:test(@id|@class, P)  ->  contains($m0, concat(D, string(@id|@class), D))

   ``string(node-set)`` is the value of the first node in document order, as ``re:test``
   reads it. A test no value matches becomes ``false()``; the compiled variants are cached
   per pattern of empty tests.

Expressions neither rewrite applies to, or that cannot be rewritten exactly (``re:test`` on
anything but attributes, other namespaced functions, the expression's own variables), are
left as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

# Private-use code point as the value delimiter; a document whose attribute values hold it
# is answered by the original expression.
DELIM = "\ue000"
# Per-test cache of value -> match, cleared past this size: a site's class names repeat,
# ids like "post-123" never do, and a Spark Python worker should not grow without bound.
_CACHE_LIMIT = 10_000

_RE_TEST = re.compile(
    r"re:test\(\s*(@[\w-]+(?:\s*\|\s*@[\w-]+)*)\s*,\s*'([^']*)'\s*(?:,\s*'([^']*)'\s*)?\)"
)
_LITERAL = re.compile(r"'[^']*'|\"[^\"]*\"")
# A namespace prefix (not an axis): after rewriting there must be none, as the original's
# namespace map cannot be read back.
_PREFIX = re.compile(r"(?<![\w.:-])[A-Za-z_][\w.-]*:(?!:)")
# A tag filter at the start of a relative path: at the start, or after "(" or "|".
_TAG_FILTER = re.compile(
    r"(?:^|(?<=[(|]))(\s*)\.//\*\[\s*(self::[\w-]+(?:\s+or\s+self::[\w-]+)*)\s*\]"
)
_POSITION_FUNCTION = re.compile(r"\b(?:position|last)\s*\(")
_REGEXP_NS = "http://exslt.org/regular-expressions"


def _blank_literals(path: str) -> str:
    """``path`` with the inside of every string literal blanked, offsets kept."""
    return _LITERAL.sub(lambda m: m.group()[0] + "_" * (len(m.group()) - 2) + m.group()[0], path)


def _predicates_after(blank: str, i: int) -> list[tuple[int, int]]:
    """Spans of the predicates' insides, ``[...]``, that follow offset ``i`` of a
    literal-blanked path."""
    spans = []
    while True:
        while i < len(blank) and blank[i].isspace():
            i += 1
        if i >= len(blank) or blank[i] != "[":
            return spans
        depth, end = 0, i
        for end in range(i, len(blank)):
            depth += {"[": 1, "]": -1}.get(blank[end], 0)
            if depth == 0:
                break
        spans.append((i + 1, end))
        i = end + 1


def _positional(predicate: str) -> bool:
    """Whether a predicate selects by position: it calls position() or last(), or its value
    is a number (XPath 1.0 types are static, so evaluating it on a bare element tells)."""
    if _POSITION_FUNCTION.search(_blank_literals(predicate)):
        return True
    try:
        xpath = etree.XPath(predicate, namespaces={"re": _REGEXP_NS})
        return isinstance(xpath(etree.Element("x")), float)
    except etree.Error:
        return True


def tag_unions(path: str) -> str:
    """``path`` with each position-independent tag filter turned into a union of names."""
    blank = _blank_literals(path)
    out, pos = [], 0
    for m in _TAG_FILTER.finditer(blank):
        if any(_positional(path[a:b]) for a, b in _predicates_after(blank, m.end())):
            continue
        names = re.findall(r"self::([\w-]+)", m.group(2))
        out += [path[pos : m.start()], m.group(1), "(", "|".join(f".//{n}" for n in names), ")"]
        pos = m.end()
    return "".join(out) + path[pos:]


@dataclass
class _Test:
    attrs: tuple[str, ...]
    regex: re.Pattern[str]
    # Values seen so far and those among them the regex matches, across documents.
    seen: set[str] = field(default_factory=set)
    hits: set[str] = field(default_factory=set)

    def matching(self, values: set[str]) -> set[str]:
        # Ordered so that the extraction time limit (SIGALRM) striking between two lines
        # leaves the cache true: a value is in `seen` only once its hit is recorded.
        if len(self.seen) > _CACHE_LIMIT:
            self.seen.clear()
            self.hits.clear()
        for value in values - self.seen:
            if self.regex.search(value):
                self.hits.add(value)
            self.seen.add(value)
        found = values & self.hits
        # string() of an absent attribute is "", which the regex may match
        if self.regex.search(""):
            found.add("")
        return found


class FastXPath:
    """Callable like the ``etree.XPath`` it replaces, with the same results."""

    def __init__(self, original: etree.XPath, template: str, tests: list[_Test]):
        self.original = original
        self.path = original.path
        self._template = template
        self._tests = tests
        # One pass for the values of every tested attribute: a test sees other attributes'
        # values too, which is harmless, as string(@a) is only ever compared with them.
        attrs = sorted({a for t in tests for a in t.attrs})
        self._values = (
            etree.XPath("|".join(f"//@{a}" for a in attrs), smart_strings=False) if attrs else None
        )
        self._variants: dict[tuple[bool, ...], etree.XPath] = {}

    @classmethod
    def of(cls, original: etree.XPath) -> FastXPath | None:
        """The rewritten expression, or None where ``original`` has nothing to rewrite or
        could not be rewritten exactly."""
        path = original.path
        if "{" in path or "}" in path or "$" in _blank_literals(path):
            return None
        tests: list[_Test] = []
        keys: dict[tuple, int] = {}

        def placeholder(m: re.Match[str]) -> str:
            attrs = tuple(a.strip()[1:] for a in m.group(1).split("|"))
            ignore_case = "i" in (m.group(3) or "")
            key = (attrs, m.group(2), ignore_case)
            if key not in keys:
                # The flags lxml's EXSLT implementation compiles with.
                flags = re.UNICODE | (re.IGNORECASE if ignore_case else 0)
                keys[key] = len(tests)
                tests.append(_Test(attrs, re.compile(m.group(2), flags)))
            return f"{{t{keys[key]}}}"

        unions = tag_unions(path)
        template = _RE_TEST.sub(placeholder, unions)
        if unions == path and not tests:
            return None
        if _PREFIX.search(_blank_literals(template)):
            return None
        return cls(original, template, tests)

    def _variant(self, nonempty: tuple[bool, ...]) -> etree.XPath:
        xpath = self._variants.get(nonempty)
        if xpath is None:
            parts = {}
            for i, (test, used) in enumerate(zip(self._tests, nonempty, strict=True)):
                attrs = "|".join(f"@{a}" for a in test.attrs)
                parts[f"t{i}"] = (
                    f"contains($m{i}, concat('{DELIM}', string({attrs}), '{DELIM}'))"
                    if used
                    else "false()"
                )
            xpath = self._variants[nonempty] = etree.XPath(self._template.format(**parts))
        return xpath

    def __call__(self, tree: etree._Element | etree._ElementTree) -> list:
        if self._values is None:
            return self._variant(())(tree)
        doc = tree if isinstance(tree, etree._ElementTree) else tree.getroottree()
        # The whole document's values, so that any step the expression takes is covered.
        values = set(self._values(doc))
        if DELIM in "".join(values):
            return self.original(tree)
        found = [t.matching(values) for t in self._tests]
        # sorted: the same variable text, whatever the set order
        variables = {
            f"m{i}": DELIM + DELIM.join(sorted(f)) + DELIM for i, f in enumerate(found) if f
        }
        return self._variant(tuple(bool(f) for f in found))(tree, **variables)
