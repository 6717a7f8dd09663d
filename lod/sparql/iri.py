"""IRIs: resolving a reference against a base (RFC 3986 §5.2) and telling a valid IRI.

``urllib.parse.urljoin`` is not RFC 3986 in its edge cases (it keeps ``..`` segments above the
root and treats schemes it does not know differently), so resolution is written out here, step
by step as §5.2.2-§5.2.4 give it. Whether an absolute IRI is valid is decided by the engine's
own IRI parser (pyoxigraph's ``NamedNode``, RFC 3987): an IRI the parser lets through is then
one the engine accepts, which a second implementation of RFC 3987 could not promise.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pyoxigraph import NamedNode

# RFC 3986 Appendix B: the five components of any reference; the scheme is checked below.
_REFERENCE = re.compile(r"(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?", re.DOTALL)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")


def has_scheme(reference: str) -> bool:
    """Whether ``reference`` is absolute (starts with a scheme and a colon), not relative."""
    colon = reference.find(":")
    return colon > 0 and _SCHEME.fullmatch(reference, 0, colon) is not None


@lru_cache(maxsize=8192)
def is_valid_iri(value: str) -> bool:
    """Whether ``value`` is an absolute IRI (RFC 3987) the engine accepts."""
    try:
        NamedNode(value)
    except ValueError:
        return False
    return True


def resolve(reference: str, base: str) -> str:
    """``reference`` resolved against the absolute IRI ``base`` (RFC 3986 §5.2.2, strict).

    >>> resolve("../g?y#s", "http://a/b/c/d;p?q")
    'http://a/b/g?y#s'
    """
    scheme, authority, path, query, fragment = _split(reference)
    if scheme is not None:
        return _join(scheme, authority, _remove_dot_segments(path), query, fragment)
    base_scheme, base_authority, base_path, base_query, _ = _split(base)
    if authority is not None:
        path = _remove_dot_segments(path)
    else:
        if path == "":
            path = base_path
            query = base_query if query is None else query
        elif path.startswith("/"):
            path = _remove_dot_segments(path)
        else:
            path = _remove_dot_segments(_merge(base_authority, base_path, path))
        authority = base_authority
    return _join(base_scheme, authority, path, query, fragment)


def _split(reference: str) -> tuple[str | None, str | None, str, str | None, str | None]:
    match = _REFERENCE.fullmatch(reference)
    assert match is not None  # every string matches Appendix B's expression
    scheme, authority, path, query, fragment = match.groups()
    return scheme, authority, path, query, fragment


def _merge(base_authority: str | None, base_path: str, path: str) -> str:
    """§5.2.3."""
    if base_authority is not None and base_path == "":
        return "/" + path
    return base_path[:base_path.rfind("/") + 1] + path


def _remove_dot_segments(path: str) -> str:
    """§5.2.4, the loop as the RFC writes it."""
    if "." not in path:
        return path
    output: list[str] = []
    while path:
        if path.startswith("../"):
            path = path[3:]
        elif path.startswith("./") or path.startswith("/./"):
            path = path[2:]
        elif path == "/.":
            path = "/"
        elif path.startswith("/../"):
            path = path[3:]
            if output:
                output.pop()
        elif path == "/..":
            path = "/"
            if output:
                output.pop()
        elif path in (".", ".."):
            path = ""
        else:
            start = 1 if path.startswith("/") else 0
            end = path.find("/", start)
            end = len(path) if end < 0 else end
            output.append(path[:end])
            path = path[end:]
    return "".join(output)


def _join(scheme: str | None, authority: str | None, path: str, query: str | None,
          fragment: str | None) -> str:
    """§5.3."""
    result = f"{scheme}:" if scheme is not None else ""
    if authority is not None:
        result += "//" + authority
    result += path
    if query is not None:
        result += "?" + query
    if fragment is not None:
        result += "#" + fragment
    return result
