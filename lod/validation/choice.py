"""Which SHACL shapes a build validates against: lod's own (``shapes/``), a publisher's instead,
or both (``lod build --shapes FILE|DIR``, ``--shapes +FILE|+DIR`` to add; the setting ``shapes``).

Whatever the choice, nothing that does not conform is published. The shapes are compiled to
SPARQL where the compiler can (:mod:`.compiler`); a publisher's shapes that use what it cannot
(``sh:closed``, as the EU CPOV shapes do) are checked by pySHACL, the reference, on the same data
(slower: the data is copied into an rdflib graph). A release records the shapes it was validated
against: in its manifest and in ``validation.ttl``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import DCTERMS, RDF, Graph, Literal
from rdflib.namespace import SH

from lod.errors import UsageError
from lod.formats import RdfFormat
from lod.messages import tr
from lod.validation.compiler import CompiledShapes, bundled_shapes, compile_shapes, validate_graph_fast
from lod.validation.components import UnsupportedShape
from lod.validation.pyshacl import ValidationReport, shapes_graph, validate_graph

BUNDLED = "lod's shapes (shapes/)"


@dataclass(frozen=True)
class ShapesChoice:
    files: tuple[Path, ...] = ()
    """The publisher's shapes files."""
    bundled: bool = True
    """Whether lod's own shapes are checked too."""

    @classmethod
    def parse(cls, specs: Sequence[str]) -> ShapesChoice:
        """From ``--shapes`` values: a file or a directory (its RDF files) replaces lod's shapes;
        the same with a leading ``+`` adds to them. None: lod's shapes alone."""
        files: list[Path] = []
        bundled = True
        for spec in specs:
            path = Path(spec.removeprefix("+"))
            bundled = bundled and spec.startswith("+")
            if path.is_dir():
                found = sorted(p for p in path.iterdir() if p.is_file() and _is_rdf(p))
                if not found:
                    raise UsageError(tr("--shapes {spec}: the directory holds no RDF file of shapes",
                                        spec=spec))
                files.extend(found)
            elif path.is_file() and _is_rdf(path):
                files.append(path)
            elif not path.exists():
                raise UsageError(tr("--shapes {spec}: no such file or directory", spec=spec))
            else:
                raise UsageError(tr("--shapes {spec}: not an RDF file (.ttl, .nt, .rdf, .jsonld, …)",
                                    spec=spec))
        return cls(tuple(files), bundled)

    def described(self) -> tuple[str, ...]:
        """What the release records: lod's shapes, and each file by name and SHA-256."""
        return ((BUNDLED,) if self.bundled else ()) + tuple(
            f"{path.name} (sha256 {hashlib.sha256(path.read_bytes()).hexdigest()})" for path in self.files)

    def graph(self) -> Graph:
        """Every chosen shape as one graph (for pySHACL, which checks them all)."""
        if not self.files:
            return shapes_graph()
        return self._theirs() + shapes_graph() if self.bundled else self._theirs()

    def validate(self, data: Graph) -> ValidationReport:
        """``data`` (with the vocabulary) validated against the chosen shapes, as a build does."""
        checks = self.checks()
        compiled = None if checks.compiled is None else validate_graph_fast(data, shapes=checks.compiled)
        reference = None if checks.reference is None else validate_graph(data, shapes=checks.reference)
        return combined(compiled, reference)

    def checks(self) -> ShapeChecks:
        """The shapes as the build checks them: compiled where possible, pySHACL for the rest."""
        if not self.files:
            return ShapeChecks(bundled_shapes(), None)
        theirs = self._theirs()
        everything = theirs + shapes_graph() if self.bundled else theirs
        try:
            return ShapeChecks(compile_shapes(everything), None)
        except UnsupportedShape as unsupported:
            return ShapeChecks(bundled_shapes() if self.bundled else None, theirs, str(unsupported))


    def _theirs(self) -> Graph:
        theirs = Graph()
        for path in self.files:
            try:
                theirs.parse(path, format=RdfFormat.from_path(path)[0].rdflib_name)
            except Exception as error:  # rdflib raises many kinds for bad input
                raise UsageError(tr("--shapes {spec}: cannot be read: {error}", spec=path,
                                    error=error)) from None
        kinds = (SH.NodeShape, SH.PropertyShape)
        if self.files and not any(True for kind in kinds for _ in theirs.subjects(RDF.type, kind)):
            raise UsageError(tr("--shapes: {files} hold no SHACL shape",
                                files=", ".join(map(str, self.files))))
        return theirs


@dataclass(frozen=True)
class ShapeChecks:
    compiled: CompiledShapes | None
    """Checked as SPARQL, in parallel parts."""
    reference: Graph | None
    """Shapes the compiler cannot compile, checked by pySHACL."""
    why_reference: str = ""


def _is_rdf(path: Path) -> bool:
    try:
        RdfFormat.from_path(path)
    except UsageError:
        return False
    return True


def validate_with_pyshacl(store: ox.Store, *, shapes: Graph) -> ValidationReport:
    """The store's data (all graphs) validated against ``shapes`` by pySHACL."""
    triples = (ox.Triple(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None))
    data = Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    return validate_graph(data, shapes=shapes)


def combined(compiled: ValidationReport | None, reference: ValidationReport | None) -> ValidationReport:
    """One report of the compiled check and the reference's (at least one of them ran)."""
    if compiled is None or reference is None:
        report = compiled or reference
        assert report is not None
        return report
    return ValidationReport(compiled.results + reference.results, compiled.graph + reference.graph)


def record_shapes(report: Graph, described: Sequence[str]) -> None:
    """Say in the report which shapes it checked (``dcterms:source`` of each report)."""
    for node in list(report.subjects(RDF.type, SH.ValidationReport)):
        for text in described:
            report.add((node, DCTERMS.source, Literal(text)))
