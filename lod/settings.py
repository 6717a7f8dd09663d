"""All configuration in one frozen dataclass, read once at start-up.

Sources, later ones winning: the defaults below, a TOML file (``--config`` or ``LOD_CONFIG``),
then environment variables ``LOD_<FIELD>`` (``LOD_QUERY_TIMEOUT=5``). ``docs/operations.md``
lists every setting.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lod.errors import UsageError
from lod.messages import tr, tr_n
from lod.vocab import DEFAULT_BASE_IRI


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How `lod` builds and serves a release. Every field can be set as ``LOD_<NAME>``."""

    base_iri: str = DEFAULT_BASE_IRI
    """Data IRIs are ``{base_iri}id/{type}/{slug}``. Changing it changes every published IRI."""
    public_url: str = ""
    """Where the server is reached from outside, ending in '/'; defaults to http://{host}:{port}/."""
    data_dir: Path = Path("data")
    release_dir: Path = Path("release")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    query_timeout: float = 10.0
    """Seconds a query may take to evaluate and serialise; then it is stopped (HTTP 504)."""
    query_slots: int = 2
    """Queries one server process evaluates at once (each in a child process of its own)."""
    queue_wait: float = 1.0
    """Seconds a query may wait for a free slot before it is answered 503 with Retry-After."""
    threads: int = 8
    """Requests one server process runs the app for at once: downloads and pages need no query
    slot. More threads cost each request more CPU in contention for the interpreter (16 instead
    of 8: about 15% more per light query, measured)."""
    query_memory_mb: int = 1024
    """Memory a query process may allocate beyond the store it reads, in MB; a query that needs
    more is stopped and answered 507, and the server goes on."""
    max_result_mb: int = 100
    """Megabytes of a serialised result at most; a longer one is cut, like max_rows, with a header."""
    page_slots: int = 1
    """Query processes per server process kept for pages (/id, /doc, …): SPARQL load cannot starve them."""
    connection_limit: int = 1000
    """Connections one server process holds open at once; a slow client costs a buffer, not a thread."""
    client_timeout: float = 30.0
    """Seconds a connection may stay silent (no byte of a request sent, no byte of a response read)."""
    response_timeout: float = 300.0
    """Seconds a client may take to read one response; then the server closes the connection."""
    result_cache_mb: int = 64
    """Memory each server process keeps results in, to answer repeated queries at once (0: off)."""
    memory_store_triples: int = 3_000_000
    """Releases with at most this many triples are queried from memory (two to three times faster
    than from disk): about 0.35 GB per million triples for each server process and, as their queries
    read it, for each of its query processes (0: always from disk)."""
    log_plans: bool = False
    """Log each query the planner rewrote, as the client sent it and as the engine runs it
    (standard error, logger ``lod.query.plans``)."""
    max_rows: int = 100_000
    """Rows (SELECT) or triples (CONSTRUCT/DESCRIBE) returned at most; more are cut, with a header."""
    max_query_bytes: int = 1_000_000
    """Longest query accepted, in bytes (federation engines send large VALUES blocks)."""
    dataset_name: str = "lod-ikz"
    """File name stem of the dumps."""
    license: str = "http://dcat-ap.de/def/licenses/cc-by/4.0"
    publisher_name: str = "lod-ikz"
    publisher_homepage: str = ""
    publisher_email: str = ""
    shapes: tuple[str, ...] = ()
    """SHACL shapes files or directories that replace lod's shapes/ in validation; each with a
    leading '+' is checked in addition to them (lod build --shapes)."""
    keep_releases: int = 3
    """Builds kept on disk; older ones are removed after a successful build."""
    federation: bool = False
    """Whether queries may use SERVICE, to the endpoints in federation_endpoints only."""
    federation_endpoints: tuple[str, ...] = ()
    federation_networks: tuple[str, ...] = ()
    """Non-public networks SERVICE may nevertheless reach (CIDR), e.g. 127.0.0.1/32 for a local peer."""
    federation_timeout: float = 5.0
    federation_max_rows: int = 10_000
    remote_query_url: str = ""
    """A SPARQL 1.1 query endpoint that answers every query instead of the local store (empty: off)."""
    remote_update_url: str = ""
    """The same store's SPARQL 1.1 Update endpoint: ``lod build`` switches releases there."""
    remote_gsp_url: str = ""
    """The same store's Graph Store Protocol endpoint: ``lod build`` uploads each release there."""
    remote_graph_parameter: str = "graph"
    """The Graph Store Protocol parameter that names the graph (Virtuoso's is ``graph-uri``)."""
    remote_timeout: float = 300.0
    """Seconds one publishing request (upload, update) may wait for the remote store."""
    remote_max_mb: int = 256
    """Megabytes read at most from the remote store's answer to one query."""
    # Credentials come from the environment only (LOD_REMOTE_*): never from a file, never in a repr.
    remote_user: str = field(default="", repr=False)
    remote_password: str = field(default="", repr=False)
    remote_token: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        for name in ("base_iri", "public_url"):
            value = getattr(self, name)
            if value and (not value.startswith(("http://", "https://")) or not value.endswith("/")):
                raise UsageError(tr("setting {setting}={value!r}: must be an http(s) URL ending in '/'",
                                    setting=name, value=value))
        for name in ("port", "workers", "max_rows", "max_query_bytes", "keep_releases", "query_slots",
                     "threads", "remote_max_mb", "query_memory_mb", "max_result_mb", "page_slots",
                     "connection_limit"):
            if getattr(self, name) < 1:
                raise UsageError(tr("setting {setting}={value!r}: must be at least 1",
                                    setting=name, value=getattr(self, name)))
        for name in ("query_timeout", "remote_timeout", "client_timeout", "response_timeout"):
            if getattr(self, name) <= 0:
                raise UsageError(tr("setting {setting}={value!r}: must be positive",
                                    setting=name, value=getattr(self, name)))
        _check_remote(self)
        if not self.public_url:
            object.__setattr__(self, "public_url", f"http://{self.host}:{self.port}/")

    @classmethod
    def load(cls, *, config: Path | None = None, environ: Mapping[str, str] | None = None,
             **overrides: Any) -> Settings:
        """Defaults, then the TOML file, then ``LOD_*`` variables, then ``overrides`` (not None)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        path = config or (Path(environ["LOD_CONFIG"]) if environ.get("LOD_CONFIG") else None)
        if path:
            from_file = _read_toml(path)
            secrets = sorted(set(from_file) & set(SECRETS))
            if secrets:
                raise UsageError(tr("config file {path}: {settings} may only be set in the "
                                    "environment ({variables}), never in a file", path=path,
                                    settings=", ".join(secrets),
                                    variables=", ".join(f"LOD_{s.upper()}" for s in secrets)))
            values.update(from_file)
        known = {f.name: f for f in fields(cls)}
        for name in known:
            variable = f"LOD_{name.upper()}"
            if variable in environ:
                values[name] = environ[variable]
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise UsageError(tr_n("unknown setting {unknown}; known: {known}",
                                  "unknown settings {unknown}; known: {known}", len(unknown),
                                  unknown=", ".join(unknown), known=", ".join(known)))
        return cls(**{name: _convert(name, known[name].default, value) for name, value in values.items()})

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed (public_url is derived again unless given)."""
        if "public_url" not in changes and ({"host", "port"} & set(changes)):
            changes["public_url"] = ""
        return replace(self, **changes)


SECRETS = ("remote_user", "remote_password", "remote_token")
"""Settings read from the environment only."""

_REMOTE_URLS = ("remote_query_url", "remote_update_url", "remote_gsp_url")


def _check_remote(settings: Settings) -> None:
    """The remote store's URLs and credentials fit together (see docs/operations.md)."""
    for name in _REMOTE_URLS:
        value: str = getattr(settings, name)
        if not value:
            continue
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
            raise UsageError(tr("setting {setting}={value!r}: must be an http(s) URL without a fragment, "
                                "e.g. http://127.0.0.1:7878/query", setting=name, value=value))
        if parts.username is not None or parts.password is not None:
            raise UsageError(tr("setting {setting}: credentials do not belong in the URL, where they "
                                "would be logged; set LOD_REMOTE_USER and LOD_REMOTE_PASSWORD (or "
                                "LOD_REMOTE_TOKEN)", setting=name))
    if (settings.remote_update_url or settings.remote_gsp_url) and not settings.remote_query_url:
        raise UsageError(tr("settings remote_update_url and remote_gsp_url need remote_query_url: the "
                            "remote store's query endpoint, which answers the queries"))
    if bool(settings.remote_user) != bool(settings.remote_password):
        raise UsageError(tr("LOD_REMOTE_USER and LOD_REMOTE_PASSWORD go together (HTTP Basic); "
                            "set both or neither"))
    if settings.remote_token and settings.remote_user:
        raise UsageError(tr("set either LOD_REMOTE_TOKEN (Bearer) or LOD_REMOTE_USER and "
                            "LOD_REMOTE_PASSWORD (Basic), not both"))
    if not re.fullmatch(r"[A-Za-z0-9._~-]+", settings.remote_graph_parameter):
        raise UsageError(tr("setting remote_graph_parameter={value!r}: must be a plain URL parameter name "
                            "such as graph or graph-uri", value=settings.remote_graph_parameter))
    if settings.federation and settings.remote_query_url:
        raise UsageError(tr("settings federation and remote_query_url exclude each other: the remote store "
                            "would call the SERVICE endpoints itself, where federation_endpoints cannot be "
                            "enforced"))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except FileNotFoundError:
        raise UsageError(tr("config file {path} does not exist", path=path)) from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(tr("config file {path}: {error}", path=path, error=error)) from None
    return dict(document.get("lod", document))


def _convert(name: str, default: Any, value: Any) -> Any:
    if default is MISSING or (isinstance(value, type(default)) and not isinstance(value, bool)):
        return value
    try:
        if isinstance(default, tuple):
            items = value if isinstance(value, list | tuple) else re.split(r"[\s,]+", str(value))
            return tuple(item for item in items if item)
        if isinstance(default, bool):
            return str(value).lower() in ("1", "true", "yes", "on")
        if isinstance(default, Path):
            return Path(value)
        return type(default)(value)
    except (TypeError, ValueError):
        raise UsageError(tr("setting {setting}={value!r}: must be a {expected_type}", setting=name,
                            value=value, expected_type=type(default).__name__)) from None
