"""The W3C SPARQL 1.0 and 1.1 test suites: syntax, and meaning kept by the canonical text.

(a) Every positive syntax test and the query of every evaluation test parses; every negative
syntax test is refused. (b) Each evaluation test's query is run by pyoxigraph on the test's data
twice, as written and as :func:`serialize` writes its tree, and the answers must agree (as
multisets, in order where ORDER BY fixes it, blank nodes up to renaming, graphs up to
isomorphism). A query with SERVICE is never run (the engine would go to the network).
"""

from __future__ import annotations

import pytest

from lod.sparql import SelectQuery, SparqlSyntaxError, UpdateNotAllowed, parse_query, serialize

from . import w3c

# Tests where this parser and the test suite part ways, and why.
PARSER_EXCEPTIONS = {
    # An update request of nothing but a prologue is a valid (empty) update, yet no query: a
    # query endpoint answers it with 400 ("expected SELECT, ...") rather than 403.
    "sparql11/syntax-update-1/manifest#test_38": "an empty update is not a query",
    "sparql11/syntax-update-1/manifest#test_39": "an empty update is not a query",
    "sparql11/syntax-update-1/manifest#test_40": "an empty update is not a query",
}
ENGINE_EXCEPTIONS = {
    # SPARQL keywords are case-insensitive (§19.5) and so are 'true' and 'false'; pyoxigraph
    # 0.5.13 refuses TRUE and FALSE, while the canonical text, which writes 'true', runs.
    "sparql10/expr-builtin/manifest#case-insensitive-booleans": "pyoxigraph refuses TRUE/FALSE",
}


def _params(kinds: set[str]) -> list[object]:
    found = w3c.cases(kinds)
    if not found:
        absent = pytest.mark.skip(reason=f"W3C test suites not found at {w3c.SUITES}")
        return [pytest.param(None, marks=absent)]
    return [pytest.param(case, id=case.id) for case in found]


@pytest.mark.parametrize("case", _params(w3c.POSITIVE | w3c.EVALUATION))
def test_positive_syntax(case: w3c.Case) -> None:
    query = parse_query(case.text(), base_iri=case.base_iri)
    canonical = serialize(query)
    assert parse_query(canonical) == query
    assert serialize(parse_query(canonical)) == canonical


@pytest.mark.parametrize("case", _params(w3c.NEGATIVE))
def test_negative_syntax(case: w3c.Case) -> None:
    with pytest.raises(SparqlSyntaxError):
        parse_query(case.text(), base_iri=case.base_iri)


@pytest.mark.parametrize("case", _params(w3c.UPDATES))
def test_update_is_refused(case: w3c.Case) -> None:
    """An update, valid or not, is refused as an update (403) as soon as its first operation's
    keyword shows it is one; the text after it is not read."""
    if case.id in PARSER_EXCEPTIONS:
        with pytest.raises(SparqlSyntaxError, match="expected SELECT, CONSTRUCT, DESCRIBE or ASK"):
            parse_query(case.text(), base_iri=case.base_iri)
        return
    with pytest.raises(UpdateNotAllowed):
        parse_query(case.text(), base_iri=case.base_iri)


@pytest.mark.parametrize("case", _params(w3c.EVALUATION))
def test_canonical_text_means_the_same(case: w3c.Case) -> None:
    query = parse_query(case.text(), base_iri=case.base_iri)
    if query.services():
        pytest.skip("SERVICE: the engine would fetch the endpoint")
    canonical = serialize(query)
    store = w3c.store_for(case, tuple(graph.value for graph in (*query.default_graphs, *query.named_graphs)))
    original = w3c.answer(store, case.text(), case.base_iri)
    rewritten = w3c.answer(store, canonical, None)
    if case.id in ENGINE_EXCEPTIONS:
        assert original == ("error", "SyntaxError") and rewritten != original, ENGINE_EXCEPTIONS[case.id]
        return
    if isinstance(original, tuple) and len(original) == 2 and isinstance(original[1], list):
        assert isinstance(rewritten, tuple) and rewritten[0] == original[0], canonical
        ordered = isinstance(query, SelectQuery) and bool(query.order_by)
        assert w3c.same_solutions(original[1], rewritten[1], ordered=ordered), canonical
    else:
        assert rewritten == original, canonical
