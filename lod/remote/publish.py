"""Publishing a release to a remote SPARQL 1.1 store as well: upload, check, switch, prune.

:func:`build_release_remote` builds a release as :func:`lod.release.publish.build_release` does and, when
it is complete on disk but not yet switched in, uploads it to the remote store
(:mod:`lod.remote.store`), checks that the store holds exactly its triples, and moves the remote
pointer to it; only then is the local ``current`` link switched. A failure before that switches
nothing, here or there, and removes what was uploaded.
"""

from __future__ import annotations

import gc
import gzip
import logging
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from lod.errors import UsageError
from lod.formats import RdfFormat
from lod.messages import tr, tr_n
from lod.rdf.store import ONTOLOGY_GRAPH, StoreError, open_store
from lod.release.layout import BUILDS, CURRENT, Release, ReleaseError
from lod.release.manifest import Manifest
from lod.release.publish import Progress, build_release
from lod.remote.http import public
from lod.remote.store import ReleaseGraphs, RemoteStore, RemoteStoreError
from lod.settings import Settings

log = logging.getLogger(__name__)


def build_release_remote(inputs: Path | Sequence[Path], *, settings: Settings, allow_warnings: bool = False,
                         progress: Progress | None = None,
                         before_switch: Callable[[Path, Manifest], None] | None = None) -> Release:
    """Build ``inputs`` as a new release, published to the remote store before it is switched in
    (and after ``before_switch``, as :func:`~lod.release.publish.build_release` calls it).

    Raises what :func:`~lod.release.publish.build_release` raises, and
    :class:`~lod.release.layout.ReleaseError` when the remote store does not take the release;
    then the release served before stays served, locally and remotely."""
    remote = RemoteStore.from_settings(settings)
    if remote is None:
        raise UsageError(tr("remote_query_url is not set: there is no remote store to publish to"))
    remote.require_publishing()
    upload = _Upload(remote, settings.base_iri, progress or (lambda _message: None))

    def checked_then_uploaded(build: Path, manifest: Manifest) -> None:
        if before_switch is not None:
            before_switch(build, manifest)
        upload(build, manifest)

    try:
        release = build_release(inputs, settings=settings, allow_warnings=allow_warnings,
                                progress=progress, before_switch=checked_then_uploaded)
    except BaseException:
        upload.undo(settings.release_dir)
        raise
    try:
        dropped = prune_remote(remote, settings)
    except RemoteStoreError as failure:
        # The release is published; the old graphs go with the next build.
        log.warning("old releases stay on the remote store for now: %s", failure)
    else:
        if dropped:
            upload.say(tr_n("removed {count} old release from the remote store",
                            "removed {count} old releases from the remote store", len(dropped)))
    return release


class _Upload:
    """The ``before_switch`` step of a build, remembering what it changed so it can be undone."""

    def __init__(self, remote: RemoteStore, base_iri: str, say: Progress) -> None:
        self.remote = remote
        self.base_iri = base_iri
        self.say = say
        self.switched: tuple[ReleaseGraphs, ReleaseGraphs | None] | None = None
        """The release switched to, and the one the pointer named before."""

    def __call__(self, build: Path, manifest: Manifest) -> None:
        graphs = ReleaseGraphs.of(self.base_iri, manifest.release_id)
        previous: ReleaseGraphs | None = None
        recorded = switching = False
        try:
            previous = self.remote.current(self.base_iri)
            # Recorded first, so that a build dying half-way leaves graphs the next one finds.
            self.remote.record(self.base_iri, graphs)
            recorded = True
            self.say(tr("uploading release {release_id} to {url}", release_id=manifest.release_id,
                        url=public(self.remote.gsp_url)))
            _upload(self.remote, build, manifest, graphs)
            counts = self.remote.count([graphs.data, graphs.vocabulary])
            expected = {graphs.data: manifest.served_triples, graphs.vocabulary: manifest.vocabulary_triples}
            for graph, count in counts.items():
                if count != expected[graph]:
                    raise RemoteStoreError(tr_n(
                        "after the upload the remote store holds {count} triple in <{graph}>, "
                        "the release has {expected}",
                        "after the upload the remote store holds {count} triples in <{graph}>, "
                        "the release has {expected}", count, graph=graph, expected=expected[graph]))
            self.say(tr("switching the remote store to the new release"))
            switching = True
            self.remote.switch(self.base_iri, graphs)
        except (RemoteStoreError, StoreError, ReleaseError) as failure:
            cleanup = self._abandon(graphs, previous, restore_pointer=switching) if recorded else ""
            raise ReleaseError(tr("release {release_id} was not published: {reason}; nothing was switched, "
                                  "the release served before is unchanged{cleanup}",
                                  release_id=manifest.release_id, reason=failure, cleanup=cleanup)) from None
        self.switched = (graphs, previous)

    def undo(self, release_dir: Path) -> None:
        """After the remote switch, the local one failed: point the remote store back."""
        if self.switched is None:
            return
        graphs, previous = self.switched
        link = release_dir / CURRENT
        if link.exists() and link.resolve().name == graphs.release_id:
            return  # switched here too: the failure came later, and the release stands
        self._abandon(graphs, previous, restore_pointer=True)

    def _abandon(self, graphs: ReleaseGraphs, previous: ReleaseGraphs | None, *,
                 restore_pointer: bool) -> str:
        """Drop what was uploaded (after pointing back, if the pointer may have moved); the part of
        the message that says what could not be cleaned up."""
        try:
            if restore_pointer:
                self.remote.switch(self.base_iri, previous)
            self.remote.drop(self.base_iri, graphs)
        except RemoteStoreError as failure:
            log.warning("cannot remove the upload of %s: %s", graphs.release_id, failure)
            if restore_pointer:
                return " " + tr("(its upload could not be removed: {reason}; the next build removes it; the "
                                "remote pointer may name it until then)", reason=failure)
            return " " + tr("(its upload could not be removed: {reason}; the next build removes it)",
                            reason=failure)
        return ""


def _upload(remote: RemoteStore, build: Path, manifest: Manifest, graphs: ReleaseGraphs) -> None:
    """PUT the local store's default graph (the N-Triples dump and the vocabulary) as the data graph,
    and the vocabulary graph. Queries then have one graph as their default graph, as locally: a
    store asked for the union of two (Virtuoso 7) can take seconds where one takes milliseconds."""
    try:
        store = open_store(build / "store")
        others = sorted(str(g) for g in store.named_graphs() if g != ONTOLOGY_GRAPH)
        if others:
            raise ReleaseError(tr("it has named graphs of its own ({graphs}); a remote store is given the "
                                  "data (the default graph) and the vocabulary only: load such inputs "
                                  "without graph names (as triples) to publish them remotely",
                                  graphs=", ".join(others[:3]) + (", …" if len(others) > 3 else "")))
        dump = next(d for d in manifest.dumps if d.format is RdfFormat.NTRIPLES and d.gzipped)
        vocabulary = _writer(store, ONTOLOGY_GRAPH)
        copy = _copier(build / "dumps" / dump.name)

        def default_graph(out: IO[bytes]) -> None:
            copy(out)
            vocabulary(out)

        remote.put_graph(graphs.data, default_graph)
        remote.put_graph(graphs.vocabulary, vocabulary)
    finally:
        gc.collect()  # the store is closed before the build directory is renamed


def _copier(path: Path) -> Callable[[IO[bytes]], None]:
    def write(out: IO[bytes]) -> None:
        with gzip.open(path, "rb") as dump:
            shutil.copyfileobj(dump, out, 1 << 16)

    return write


def _writer(store: ox.Store, source: ox.NamedNode) -> Callable[[IO[bytes]], None]:
    def write(out: IO[bytes]) -> None:
        store.dump(out, format=ox.RdfFormat.N_TRIPLES, from_graph=source)

    return write


def prune_remote(remote: RemoteStore, settings: Settings) -> list[str]:
    """Drop the remote graphs of releases no longer kept in ``settings.release_dir``; never the
    one the remote pointer names. Returns the release ids dropped."""
    builds = settings.release_dir / BUILDS
    kept = {path.name for path in builds.iterdir() if not path.name.startswith(".")}
    current = remote.current(settings.base_iri)
    dropped = []
    for graphs in remote.versions(settings.base_iri):
        if graphs.release_id in kept or (current is not None and graphs.data == current.data):
            continue
        remote.drop(settings.base_iri, graphs)
        dropped.append(graphs.release_id)
    return dropped


def check_served(settings: Settings, release: Release) -> None:
    """Raise :class:`ReleaseError` unless the remote store holds ``release`` (for ``lod serve``)."""
    remote = RemoteStore.from_settings(settings)
    if remote is None:
        return
    graphs = ReleaseGraphs.of(settings.base_iri, release.manifest.release_id)
    try:
        held = remote.holds(graphs.data)
    except RemoteStoreError as failure:
        raise ReleaseError(tr("cannot serve release {release_id}: {reason}",
                              release_id=release.manifest.release_id, reason=failure)) from None
    if not held:
        raise ReleaseError(tr("the remote store at {url} holds no graph <{graph}> for release {release_id}, "
                              "which {link} points to; build it with the remote settings (`lod build`)",
                              url=public(remote.query_url), graph=graphs.data,
                              release_id=release.manifest.release_id,
                              link=f"{settings.release_dir}/{CURRENT}"))
