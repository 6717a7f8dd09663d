"""The limits against exhaustion: refused past them, with the limit named and placed; below them
the engine survives the canonical text (run in a child process, where a crash is a SIGSEGV)
and Python's recursion limit is never reached."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable

import pytest

from lod.sparql import (
    LIMITS,
    LimitExceeded,
    Node,
    in_scope,
    parse_query,
    serialize,
    transform,
    walk,
)
from lod.sparql.limits import MAX_ENGINE_DEPTH, engine_depth


def nest(count: int, left: str, middle: str, right: str) -> str:
    return left * count + middle + right * count


def union(count: int) -> str:
    return " UNION ".join(["{ ?s ?p ?o }"] * count)


def unions_in_unions(levels: int) -> str:
    """UNIONs of 240 branches, each the first branch of the one around it."""
    text = "{ ?s ?p ?o }"
    for _ in range(levels):
        text = f"{{ {text} UNION {union(239)} }}"
    return text


def chains_in_exists(levels: int) -> str:
    """FILTERs of 51 conditions, the last an EXISTS whose group holds the next."""
    text = "{ }"
    for _ in range(levels):
        text = "{ FILTER(" + " && ".join(["true"] * 50) + f" && EXISTS {text}) }}"
    return text


# Queries at a limit (they must parse) and one step past it (refused): (name, at, past, limit).
EDGES: list[tuple[str, str, str, str]] = [
    ("nested groups", "SELECT * " + nest(100, "{ ", "", " }"), "SELECT * " + nest(101, "{ ", "", " }"),
     "max_depth"),
    ("nested calls", "SELECT * { FILTER(" + nest(98, "STR(", "1", ")") + ") }",
     "SELECT * { FILTER(" + nest(99, "STR(", "1", ")") + ") }", "max_depth"),
    ("nested parentheses", "SELECT * { FILTER" + nest(99, "(", "1", ")") + " }",
     "SELECT * { FILTER" + nest(100, "(", "1", ")") + " }", "max_depth"),
    ("nested lists", "SELECT * { ?s ?p " + nest(99, "( ", "1", " )") + " }",
     "SELECT * { ?s ?p " + nest(100, "( ", "1", " )") + " }", "max_depth"),
    ("arithmetic chain", "SELECT * { FILTER(" + " + ".join(["1"] * 99) + ") }",
     "SELECT * { FILTER(" + " + ".join(["1"] * 100) + ") }", "max_depth"),
    ("UNION chain", f"SELECT * {{ {union(500)} }}", f"SELECT * {{ {union(501)} }}", "max_union_branches"),
    ("&& chain", "SELECT * { FILTER(" + " && ".join(["true"] * 1000) + ") }",
     "SELECT * { FILTER(" + " && ".join(["true"] * 1001) + ") }", "max_chain_operands"),
    ("|| chain", "SELECT * { FILTER(" + " || ".join(["true"] * 1000) + ") }",
     "SELECT * { FILTER(" + " || ".join(["true"] * 1001) + ") }", "max_chain_operands"),
    ("sequence path", "SELECT * { ?s " + "/".join(["<http://e/p>"] * 100) + " ?o }",
     "SELECT * { ?s " + "/".join(["<http://e/p>"] * 101) + " ?o }", "max_path_operands"),
    ("alternative path", "SELECT * { ?s " + "|".join(["<http://e/p>"] * 100) + " ?o }",
     "SELECT * { ?s " + "|".join(["<http://e/p>"] * 101) + " ?o }", "max_path_operands"),
    ("group elements", "SELECT * { " + " ".join(f"BIND({i} AS ?v{i})" for i in range(250)) + " }",
     "SELECT * { " + " ".join(f"BIND({i} AS ?v{i})" for i in range(251)) + " }", "max_group_elements"),
    # Chains inside chains: each is within its own limit, together they are too deep.
    ("unions in unions", "SELECT * " + unions_in_unions(2), "SELECT * " + unions_in_unions(3),
     "max_engine_depth"),
    ("chains in EXISTS", "SELECT * " + chains_in_exists(16), "SELECT * " + chains_in_exists(18),
     "max_engine_depth"),
]


@pytest.mark.parametrize(("name", "at", "past", "limit"), EDGES, ids=[edge[0] for edge in EDGES])
def test_refused_past_each_limit_with_its_name(name: str, at: str, past: str, limit: str) -> None:
    parse_query(at)
    with pytest.raises(LimitExceeded) as caught:
        parse_query(past)
    assert caught.value.limit == limit and limit in LIMITS
    assert str(LIMITS[limit]) in caught.value.reason
    assert caught.value.status == 400


def test_the_depth_error_points_at_the_level_too_many() -> None:
    with pytest.raises(LimitExceeded) as caught:
        parse_query("SELECT * {\n  { { { ?s ?p ?o } } }\n}", max_depth=3)
    assert (caught.value.line, caught.value.column) == (2, 7)
    assert caught.value.reason == ("the query nests deeper than 3 levels (groups, parentheses, function "
                                   "calls, lists) here")


def test_what_federation_engines_send_passes() -> None:
    rows = " ".join(f'(<http://example.org/{i}> "{i}")' for i in range(5000))
    parse_query(f"SELECT * {{ VALUES (?s ?label) {{ {rows} }} ?s ?p ?label }}")
    branches = " UNION ".join(f"{{ SERVICE <http://example.org/sparql{i % 7}> {{ ?s ?p{i} ?o }} }}"
                              for i in range(200))
    assert len(parse_query(f"SELECT * {{ {branches} }}").services()) == 200


_SURVIVE = """
import sys
from pyoxigraph import NamedNode, Quad, Store
store = Store()
node = NamedNode("http://e/p")
store.add(Quad(node, node, node))
for line in sys.stdin.read().split("\\n\\x00\\n"):
    try:
        result = store.query(line)
        if not isinstance(result, bool):
            for _ in result:
                pass
    except (SyntaxError, ValueError, OSError, RuntimeError):
        pass
print("survived")
"""


def test_the_engine_survives_every_query_at_the_limits() -> None:
    texts = [serialize(parse_query(at)) for name, at, _, _ in EDGES if name != "sequence path"]
    # Mixes near the budget: chains at the bottom of nested groups, EXISTS in EXISTS.
    texts.append(serialize(parse_query("SELECT * " + nest(24, "{ ", union(45), " }"))))
    texts.append(serialize(parse_query("SELECT * " + nest(50, "{ FILTER EXISTS ", "{ }", " }"))))
    done = subprocess.run([sys.executable, "-c", _SURVIVE], input="\n\x00\n".join(texts), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0 and done.stdout.strip() == "survived", done.stderr[-500:]


# The probes of tests/sparql/engine_limits.py and the size at which each crashed the engine.
CRASHES: list[tuple[str, Callable[[int], str], int]] = [
    ("nested calls", lambda n: "SELECT * { FILTER(" + nest(n, "STR(", "1", ")") + ") }", 960),
    ("nested EXISTS", lambda n: "SELECT * " + nest(n, "{ FILTER EXISTS ", "{ }", " }"), 864),
    ("nested groups", lambda n: "SELECT * " + nest(n, "{ ", "?s ?p ?o", " }"), 2240),
    ("nested OPTIONAL", lambda n: "SELECT * " + nest(n, "{ ?s ?p ?o OPTIONAL ", "{ ?s ?p ?o }", " }"), 2944),
    ("nested sub-SELECT", lambda n: "SELECT * " + nest(n, "{ SELECT * WHERE ", "{ ?s ?p ?o }", " }"), 2560),
    ("UNION chain", lambda n: f"SELECT * {{ {union(n)} }}", 6656),
    ("&& chain", lambda n: "SELECT * { FILTER(" + " && ".join(["true"] * n) + ") }", 9472),
    ("+ chain", lambda n: "SELECT * { FILTER(" + " + ".join(["1"] * n) + ") }", 6912),
    ("MINUS sequence", lambda n: "SELECT * { ?s ?p ?o " + "MINUS { ?s ?p ?o } " * n + "}", 2688),
    ("BIND sequence", lambda n: "SELECT * { " + " ".join(f"BIND(1 AS ?v{i})" for i in range(n)) + " }", 2688),
    ("FILTER sequence", lambda n: "SELECT * { ?s ?p ?o " + "FILTER(?o) " * n + "}", 9472),
    ("alternative path", lambda n: "SELECT * { ?s " + "|".join(["<http://e/p>"] * n) + " ?o }", 11264),
]


@pytest.mark.parametrize(("name", "probe", "crashed_at"), CRASHES, ids=[crash[0] for crash in CRASHES])
def test_the_budget_keeps_far_below_each_measured_crash(name: str, probe: Callable[[int], str],
                                                        crashed_at: int) -> None:
    """What each crashing probe would cost, extrapolated from two small sizes (the cost is
    linear in the size), is at least eight times the budget."""
    small, large = (engine_depth(parse_query(probe(n))) for n in (10, 20))
    per_level = (large - small) / 10
    assert small - 10 * per_level + per_level * crashed_at >= 8 * MAX_ENGINE_DEPTH


def _deep_caller(levels: int, work: Callable[[], None]) -> None:
    """``work`` called from ``levels`` frames down, as from inside a web framework."""
    if levels:
        _deep_caller(levels - 1, work)
    else:
        work()


def test_python_recursion_stays_within_its_limit() -> None:
    queries = [parse_query(at) for _, at, _, _ in EDGES]
    failures: list[BaseException] = []

    def work() -> None:
        for query in queries:
            text = serialize(query)
            assert parse_query(text) == query
            assert transform(query, lambda node: node) is query
            rebuilt: Node = transform(query, lambda node: node.__class__(**{
                name: getattr(node, name) for name in node.__dataclass_fields__}))  # type: ignore[attr-defined]
            assert rebuilt == query
            assert sum(1 for _ in walk(query)) > 0
            in_scope(query.where)

    def run() -> None:
        try:
            _deep_caller(300, work)
        except BaseException as error:
            failures.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert not failures, failures
