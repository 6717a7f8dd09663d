"""Validation reports for people (grouped by record, with file and line) and for machines (JSON)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rdflib import URIRef
from rdflib.term import Node

from lod.errors import Problem
from lod.messages import tr, tr_n
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


SEVERITIES = ("Violation", "Warning", "Info")
"""From the most severe; ``--min-severity`` names one in lower case."""


def format_text(findings: Sequence[Finding], *, min_severity: str = "Info", summary: bool = False) -> str:
    """A report a person can act on: one block per record, one line per broken rule; only the
    findings of ``min_severity`` or worse, or with ``summary`` one line per rule and severity with
    how many records break it. The last line counts every finding, shown or not."""
    shown = [f for f in findings if SEVERITIES.index(f.result.severity) <= SEVERITIES.index(min_severity)]
    lines = _summary(shown) if summary else _blocks(shown)
    counts = {s: sum(f.result.severity == s for f in findings) for s in SEVERITIES}
    verdict = tr("does not conform") if counts["Violation"] else tr("conforms")
    hidden = len(findings) - len(shown)
    lines.append(tr("{verdict}: {violations} violations, {warnings} warnings, {infos} infos",
                    verdict=verdict, violations=counts["Violation"], warnings=counts["Warning"],
                    infos=counts["Info"])
                 + (tr(" ({hidden} less severe than {severity} not shown)", hidden=hidden,
                       severity=severity_name(min_severity)) if hidden else ""))
    return "\n".join(lines) + "\n"


def severity_name(severity: str) -> str:
    """A SHACL severity (``Violation``) as the report names it, in the current language."""
    return {"Violation": tr("violation"), "Warning": tr("warning"), "Info": tr("info")}[severity]


def _blocks(findings: Sequence[Finding]) -> list[str]:
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
            value = tr(" (value: {value})", value=result.value) if result.value is not None else ""
            lines.append(f"  {severity_name(result.severity)}: {column}{result.message}{value}")
    return lines


def _summary(findings: Sequence[Finding]) -> list[str]:
    """One line per rule (severity, column, message), the most frequent first, with an example."""
    rules: dict[tuple[str, str, str], list[Finding]] = {}
    for finding in findings:
        result = finding.result
        rules.setdefault((result.severity, result.column or "", result.message), []).append(finding)
    ordered = sorted(rules.items(), key=lambda item: (SEVERITIES.index(item[0][0]), -len(item[1]), item[0]))
    return [tr("{times:6} times {severity}: {column}{message} (e.g. {where})", times=len(group),
               severity=severity_name(severity), column=f"[{column}] " if column else "", message=message,
               where=group[0].where) for (severity, column, message), group in ordered]


def format_problems(problems: Sequence[Problem], *, outcome: str | None = None) -> str:
    """Input errors, one a line, with a count and what became of the command (``outcome``, by
    default that nothing was written)."""
    body = "".join(tr("error: {problem}", problem=problem) + "\n" for problem in problems)
    return body + tr_n("{count} input error; {outcome}", "{count} input errors; {outcome}", len(problems),
                       outcome=outcome or tr("nothing was written")) + "\n"


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
