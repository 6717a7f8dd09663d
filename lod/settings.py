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
from dataclasses import MISSING, dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import UsageError
from .service_gateway import FederationPolicy
from .vocab import DEFAULT_BASE_IRI


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
    threads: int = 16
    """Connections one server process serves at once: downloads and pages need no query slot."""
    result_cache_mb: int = 64
    """Memory each server process keeps results in, to answer repeated queries at once (0: off)."""
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
    keep_releases: int = 3
    """Builds kept on disk; older ones are removed after a successful build."""
    federation: bool = False
    """Whether queries may use SERVICE, to the endpoints in federation_endpoints only."""
    federation_endpoints: tuple[str, ...] = ()
    federation_networks: tuple[str, ...] = ()
    """Non-public networks SERVICE may nevertheless reach (CIDR), e.g. 127.0.0.1/32 for a local peer."""
    federation_timeout: float = 5.0
    federation_max_rows: int = 10_000

    def federation_policy(self) -> FederationPolicy | None:
        """The SERVICE policy, or None when federation is off."""
        if not self.federation:
            return None
        return FederationPolicy.of(endpoints=self.federation_endpoints, networks=self.federation_networks,
                                   timeout=self.federation_timeout, max_rows=self.federation_max_rows)

    def __post_init__(self) -> None:
        for name in ("base_iri", "public_url"):
            value = getattr(self, name)
            if value and (not value.startswith(("http://", "https://")) or not value.endswith("/")):
                raise UsageError(f"setting {name}={value!r}: must be an http(s) URL ending in '/'")
        for name in ("port", "workers", "max_rows", "max_query_bytes", "keep_releases", "query_slots",
                     "threads"):
            if getattr(self, name) < 1:
                raise UsageError(f"setting {name}={getattr(self, name)!r}: must be at least 1")
        if self.query_timeout <= 0:
            raise UsageError(f"setting query_timeout={self.query_timeout!r}: must be positive")
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
            values.update(_read_toml(path))
        known = {f.name: f for f in fields(cls)}
        for name in known:
            variable = f"LOD_{name.upper()}"
            if variable in environ:
                values[name] = environ[variable]
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise UsageError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(known)}")
        return cls(**{name: _convert(name, known[name].default, value) for name, value in values.items()})

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed (public_url is derived again unless given)."""
        if "public_url" not in changes and ({"host", "port"} & set(changes)):
            changes["public_url"] = ""
        return replace(self, **changes)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except FileNotFoundError:
        raise UsageError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"config file {path}: {error}") from None
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
        raise UsageError(f"setting {name}={value!r}: must be a {type(default).__name__}") from None
