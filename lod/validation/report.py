"""Validation reports for people (grouped by record, with file and line) and for machines (JSON)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rdflib import URIRef
from rdflib.term import Node

from lod.errors import Problem
from lod.records.model import Record
from lod.validation.pyshacl import ValidationReport, ValidationResult


@dataclass(frozen=True, slots=True)
class Finding:
    """A validation result traced back to the record (and so the file and line) it is about."""

    result: ValidationResult
    record: Record | None

    @property
    def where(self) -> str:
        if self.record is None:
            return str(self.result.focus_node)
        origin = self.record.origin
        if origin is None:
            return f"{self.record.collection}[{self.record.slug}]"
        return origin.file if origin.line is None else f"{origin.file}:{origin.line}"


def trace(report: ValidationReport, records: Mapping[URIRef, Record]) -> list[Finding]:
    """Each result with the record whose IRI (or part of it, ``…#interval``) it is about."""
    return [Finding(result, _record_of(result.focus_node, records)) for result in report.results]


def _record_of(node: Node, records: Mapping[URIRef, Record]) -> Record | None:
    if not isinstance(node, URIRef):
        return None
    return records.get(node) or records.get(URIRef(node.partition("#")[0]))


def format_text(findings: Sequence[Finding]) -> str:
    """A report a person can act on: one block per record, one line per broken rule."""
    if not findings:
        return "conforms: 0 violations, 0 warnings, 0 infos\n"
    blocks: dict[str, list[Finding]] = {}
    for finding in findings:
        record = finding.record
        title = (f"{finding.where}: {record.kind_name} {record.slug}" if record
                 else f"{finding.where}")
        blocks.setdefault(title, []).append(finding)
    lines = []
    for title, group in blocks.items():
        lines.append(title)
        for finding in group:
            result = finding.result
            column = f"[{result.column}] " if result.column else ""
            value = f" (value: {result.value})" if result.value is not None else ""
            lines.append(f"  {result.severity.lower()}: {column}{result.message}{value}")
    counts = {s: sum(f.result.severity == s for f in findings) for s in ("Violation", "Warning", "Info")}
    verdict = "does not conform" if counts["Violation"] else "conforms"
    lines.append(f"{verdict}: {counts['Violation']} violations, {counts['Warning']} warnings, "
                 f"{counts['Info']} infos")
    return "\n".join(lines) + "\n"


def format_problems(problems: Sequence[Problem], *, outcome: str = "nothing was written") -> str:
    """Input errors, one a line, with a count and what became of the command (``outcome``)."""
    body = "".join(f"error: {problem}\n" for problem in problems)
    return f"{body}{len(problems)} input error(s); {outcome}\n"


def to_json(findings: Sequence[Finding], problems: Sequence[Problem] = ()) -> str:
    """The report for machines; keys follow the SHACL result vocabulary."""
    def term(node: Node | None) -> str | None:
        return None if node is None else str(node)

    document = {
        "conforms": not problems and not any(f.result.severity == "Violation" for f in findings),
        "inputErrors": [
            {"file": p.file, "line": p.line, "column": p.column, "value": p.value,
             "message": p.message} for p in problems
        ],
        "results": [
            {
                "focusNode": term(f.result.focus_node),
                "resultPath": term(f.result.path),
                "value": term(f.result.value),
                "resultSeverity": f.result.severity,
                "resultMessage": f.result.message,
                "sourceShape": term(f.result.source_shape),
                "column": f.result.column,
                "file": f.record.origin.file if f.record and f.record.origin else None,
                "line": f.record.origin.line if f.record and f.record.origin else None,
            }
            for f in findings
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
