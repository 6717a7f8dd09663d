"""Where pyoxigraph's parser and evaluator run out of stack: run as a script to measure again.

    python tests/sparql/engine_limits.py [probe ...]

Each probe builds a query of size n and runs it in a child process, because past the threshold
the engine dies with SIGSEGV (a stack overflow in Rust), which no ``try`` catches. A probe is run
twice: with a syntax error appended (so only the parser runs) and as it is (parser, optimiser
and evaluator on a store of one triple). The thresholds found set the parser's limits in
``lod/sparql/limits.py``; this file is not a test, it is how those numbers were measured.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

TIMEOUT = 30

_CHILD = r"""
import sys, threading
from pyoxigraph import Store
from pyoxigraph import NamedNode, Quad
text = sys.stdin.read()
def run():
    store = Store()
    # One triple, so that every pattern of a probe has a solution to carry through the operators.
    node = NamedNode("http://e/p")
    store.add(Quad(node, node, node))
    try:
        result = store.query(text)
        if not isinstance(result, bool):
            for _ in result:
                pass
        print("ok")
    except SyntaxError as error:
        print("syntax error", str(error)[:80])
    except Exception as error:
        print("error", type(error).__name__, str(error)[:80])
if sys.argv[1] == "thread":
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
else:
    run()
"""


def _run(text: str, where: str) -> str:
    try:
        done = subprocess.run([sys.executable, "-c", _CHILD, where], input=text, capture_output=True,
                              text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "timeout"
    if done.returncode < 0:
        return f"crash (signal {-done.returncode})"
    if done.returncode:
        return f"exit {done.returncode}: {done.stderr.strip()[-120:]}"
    return done.stdout.strip()


def _nest(n: int, left: str, middle: str, right: str) -> str:
    return left * n + middle + right * n


W = "SELECT * WHERE "
PROBES: dict[str, Callable[[int], str]] = {
    "nested groups": lambda n: W + _nest(n, "{ ", "?s ?p ?o", " }"),
    "nested parentheses": lambda n: W + "{ ?s ?p ?o FILTER" + _nest(n, "(", "true", ")") + " }",
    "nested unary !": lambda n: W + "{ ?s ?p ?o FILTER(" + "!" * n + "true) }",
    "nested function calls": lambda n: W + "{ ?s ?p ?o FILTER(" + _nest(n, "STR(", "1", ")") + ") }",
    "UNION chain": lambda n: W + "{ " + " UNION ".join(["{ ?s ?p ?o }"] * n) + " }",
    "&& chain": lambda n: W + "{ ?s ?p ?o FILTER(" + " && ".join(["true"] * n) + ") }",
    "|| chain": lambda n: W + "{ ?s ?p ?o FILTER(" + " || ".join(["false"] * n + ["true"]) + ") }",
    "+ chain": lambda n: W + "{ ?s ?p ?o FILTER(" + " + ".join(["1"] * n) + ") }",
    "IN list": lambda n: W + "{ ?s ?p ?o FILTER(2 IN (" + ", ".join(["1"] * n) + ")) }",
    "sequence path": lambda n: W + "{ ?s " + "/".join(["<http://e/p>"] * n) + " ?o }",
    "alternative path": lambda n: W + "{ ?s " + "|".join(["<http://e/p>"] * n) + " ?o }",
    "nested path parentheses": lambda n: W + "{ ?s " + _nest(n, "(", "<http://e/p>", ")") + " ?o }",
    "nested OPTIONAL": lambda n: W + _nest(n, "{ ?s ?p ?o OPTIONAL ", "{ ?s ?p ?o }", " }"),
    "OPTIONAL sequence": lambda n: W + "{ ?s ?p ?o " + "OPTIONAL { ?s ?p ?o } " * n + "}",
    "MINUS sequence": lambda n: W + "{ ?s ?p ?o " + "MINUS { ?s ?p ?o } " * n + "}",
    "BIND sequence": lambda n: W + "{ " + " ".join(f"BIND({i} AS ?v{i})" for i in range(n)) + " }",
    "FILTER sequence": lambda n: W + "{ ?s ?p ?o " + "FILTER(?o) " * n + "}",
    "group sequence": lambda n: W + "{ " + "{ ?s ?p ?o } " * n + "}",
    "triple patterns": lambda n: W + "{ " + " ".join(f"?s{i} ?p ?s{i + 1} ." for i in range(n)) + " }",
    "nested blank node lists": lambda n: W + "{ ?s ?p " + _nest(n, "[ ?p ", "?o", " ]") + " }",
    "nested collections": lambda n: W + "{ ?s ?p " + _nest(n, "( ", "?o", " )") + " }",
    "nested EXISTS": lambda n: W + _nest(n, "{ FILTER EXISTS ", "{ }", " }"),
    "nested sub-SELECT": lambda n: W + _nest(n, "{ SELECT * WHERE ", "{ ?s ?p ?o }", " }"),
    "VALUES rows": lambda n: W + "{ VALUES (?s ?o) { " + "(<http://e/s> 1) " * n + "} }",
}


def _threshold(build: Callable[[int], str], where: str, *, parse_only: bool, limit: int) -> tuple[int, str]:
    """The smallest n (within about 5%) at which the probe crashes, and how; a probe that takes
    longer than the timeout is not a crash, so the search stops there and says so."""
    suffix = " }}}}} ((" if parse_only else ""
    good, bad, outcome = 0, None, ""
    n = 64
    while bad is None and n <= limit:
        result = _run(build(n) + suffix, where)
        if result == "timeout":
            return 0, f"no crash up to {good}; slower than {TIMEOUT} s at n={n}"
        if result.startswith(("ok", "syntax error", "error")):
            good, n = n, n * 2
        else:
            bad, outcome = n, result
    if bad is None:
        return 0, f"none up to {good}"
    while bad - good > max(2, good // 20):
        middle = (good + bad) // 2
        result = _run(build(middle) + suffix, where)
        if result.startswith(("ok", "syntax error", "error", "timeout")):
            good = middle
        else:
            bad, outcome = middle, result
    return bad, outcome


def main(names: list[str]) -> None:
    for name in names or list(PROBES):
        build = PROBES[name]
        # A thread of glibc's default stack size (8 MiB, as RLIMIT_STACK) gave the same thresholds
        # as the main thread in the first measurement, so only the main thread is probed.
        for where in ("main",):
            for parse_only in (True, False):
                n, outcome = _threshold(build, where, parse_only=parse_only, limit=1 << 20)
                stage = "parser   " if parse_only else "evaluator"
                print(f"{name:26} {where:6} {stage} breaks at n={n:<8} {outcome}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
