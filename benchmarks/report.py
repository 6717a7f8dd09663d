"""The results of `benchmarks/run.py` as Markdown: per scale, the query mix per engine with the
ratios of our endpoint to each peer, the engines' load and memory, the build pipeline against the
baseline, the correctness check, the targets, and where `lod` loses most."""

from __future__ import annotations

import math
from typing import Any

US = "lod"
X = "\u00d7"  # the multiplication sign of ratios
NONE = "\u2013"  # an en dash: no figure
TARGET_BUILD_SECONDS = 120.0
BASELINE_STAGES = {"start-up": ["start-up (imports)"]}
"""lod stages whose baseline counterpart is not found by splitting the name at '+'."""


def _number(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NONE
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _ratio(value: float | None) -> str:
    return NONE if value is None else f"{value:.2f}{X}"


def geomean(values: list[float]) -> float | None:
    values = [v for v in values if v and v > 0]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


def _measured(cell: dict[str, Any]) -> bool:
    """Comparable: some successes, and no request the client gave up on (an engine that cannot
    keep up with the class at this concurrency is not measured on it, see ``skipped``)."""
    return bool(cell["ok"] > 0 and cell["throughput"] > 0 and "timeout" not in cell["errors"])


def _error_share(cell: dict[str, Any]) -> float:
    return sum(cell["errors"].values()) / cell["requests"] if cell["requests"] else 0.0


FLAG = 0.05
"""Ratios where either side failed this share of requests or more are marked: they compare what
each engine chose to answer."""


def comparisons(scale: dict[str, Any]) -> dict[str, Any]:
    """Ratios of lod to each peer per class (throughput: lod ÷ peer, higher is better for lod;
    p99: lod ÷ peer, lower is better), the geometric means, and lod against the best peer."""
    engines = scale["engines"]
    if US not in engines:
        return {}
    ours = engines[US]["classes"]
    peers = [e for e in engines if e != US]
    throughput: dict[str, dict[str, float | None]] = {}
    p99: dict[str, dict[str, float | None]] = {}
    best: dict[str, dict[str, Any]] = {}
    for name, cell in ours.items():
        throughput[name], p99[name] = {}, {}
        candidates = []
        for peer in peers:
            other = engines[peer]["classes"].get(name)
            if other is None or not _measured(other) or not _measured(cell):
                throughput[name][peer] = p99[name][peer] = None
                continue
            throughput[name][peer] = cell["throughput"] / other["throughput"]
            p99[name][peer] = cell["p99_ms"] / other["p99_ms"] if other["p99_ms"] else None
            candidates.append((peer, other))
        if candidates and _measured(cell):
            fastest = max(candidates, key=lambda c: c[1]["throughput"])
            quickest = min(candidates, key=lambda c: c[1]["p99_ms"])
            best[name] = {"throughput_peer": fastest[0],
                          "throughput_ratio": cell["throughput"] / fastest[1]["throughput"],
                          "p99_peer": quickest[0], "p99_ratio": cell["p99_ms"] / quickest[1]["p99_ms"]}
    means = {peer: geomean([v for r in throughput.values() if (v := r.get(peer))]) for peer in peers}
    return {"throughput": throughput, "p99": p99, "geomean": means, "best": best}


def targets(scale: dict[str, Any], compared: dict[str, Any]) -> list[tuple[str, bool | None, str]]:
    """The issue's targets: (what, met or not (None: cannot tell), the figures)."""
    found: list[tuple[str, bool | None, str]] = []
    mean = compared.get("geomean", {}).get("virtuoso")
    found.append((f"throughput on the mix ≥ Virtuoso's (geometric mean ≥ 1.0{X})",
                  None if mean is None else mean >= 1.0, _ratio(mean)))
    best = compared.get("best", {})
    low = {c: b["throughput_ratio"] for c, b in best.items() if b["throughput_ratio"] < 0.5}
    found.append((f"no class below 0.5{X} of the best peer's throughput", None if not best else not low,
                  ", ".join(f"{c} {r:.2f}{X}" for c, r in sorted(low.items(), key=lambda i: i[1]))
                  or (f"lowest {min(b['throughput_ratio'] for b in best.values()):.2f}{X}"
                      if best else NONE)))
    slow = {c: b["p99_ratio"] for c, b in best.items() if b["p99_ratio"] > 2.0}
    found.append((f"p99 within 2{X} of the best peer's on every class", None if not best else not slow,
                  ", ".join(f"{c} {r:.1f}{X}" for c, r in sorted(slow.items(), key=lambda i: -i[1]))
                  or (f"highest {max(b['p99_ratio'] for b in best.values()):.2f}{X}"
                      if best else NONE)))
    wall = scale["build"]["lod"]["wall"]
    found.append((f"`lod build` under {TARGET_BUILD_SECONDS:.0f} s", wall < TARGET_BUILD_SECONDS,
                  f"{wall:.0f} s"))
    skipped = [c for c, cell in scale["engines"].get(US, {}).get("classes", {}).items()
               if cell["skipped"] or cell["errors"]]
    found.append(("lod answers every class without errors", not skipped, ", ".join(skipped) or "yes"))
    return found


def markdown(document: dict[str, Any]) -> str:
    lines = [f"# Benchmark results\n\n`{document['command']}`\n"]
    machine = document["machine"]
    lines.append(f"{machine['cpus']} CPUs, Python {machine['python']}, lod at {machine['commit']}, "
                 f"started {machine['started']}; load average at start "
                 f"{' '.join(f'{x:.2f}' for x in machine['loadavg_start'])}, at end "
                 f"{' '.join(f'{x:.2f}' for x in machine.get('loadavg_end', ()))}. "
                 f"Options: {_options(document['options'])}.\n")
    for scale in document["scales"]:
        lines.extend(_scale(scale))
    return "\n".join(lines) + "\n"


def _options(options: dict[str, Any]) -> str:
    return (f"concurrency {options['concurrency']}, {options['duration']:g} s per engine and class in "
            f"{options['rounds']} round(s) of at most {options['requests']} requests, client timeout "
            f"{options['timeout']:g} s, server query limit {options['query_timeout']:g} s, "
            f"`lod serve --workers {options['workers']}`"
            + "".join(f", {k}={v}" for k, v in options.get("lod_settings", {}).items()))


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out.extend("| " + " | ".join(row) + " |" for row in rows)
    return [*out, ""]


def _scale(scale: dict[str, Any]) -> list[str]:
    engines = scale["engines"]
    names = list(engines)
    peers = [n for n in names if n != US]
    compared = comparisons(scale)
    classes = list(next(iter(engines.values()))["classes"]) if engines else []
    out = [f"## Scale {scale['scale']:g}: {scale['records']:,} records, {scale['triples']:,} triples "
           f"({scale['data_triples']:,} data + {scale['triples'] - scale['data_triples']:,} vocabulary)\n"]
    for name, reason in scale.get("skipped_engines", {}).items():
        out.append(f"- **{name} not run**: {reason}")
    if scale.get("skipped_engines"):
        out.append("")

    out.append("### Throughput (successful requests per second) and lod ÷ peer\n")
    distinct = scale.get("distinct_queries", {})
    header = ["class", "queries", *names, *(f"lod ÷ {p}" for p in peers)]
    rows = []
    for c in classes:
        row = [c, f"{distinct.get(c, 0):,}"] + [_cell_throughput(engines[n]["classes"][c]) for n in names]
        flagged = {p for p in peers if max(_error_share(engines[US]["classes"][c]) if US in engines else 0,
                                           _error_share(engines[p]["classes"][c])) >= FLAG}
        ratios = {p: compared.get("throughput", {}).get(c, {}).get(p) for p in peers}
        row += [_ratio(ratios[p]) + ("*" if p in flagged and ratios[p] is not None else "") for p in peers]
        rows.append(row)
    if compared:
        rows.append(["**geometric mean** (classes both measured)", "", *("" for _ in names),
                     *(f"**{_ratio(compared['geomean'][p])}**" for p in peers)])
    out.extend(_table(header, rows))
    out.append("*queries*: distinct queries of the class, split among the rounds; no query is sent "
               "twice to an engine unless the run says `--repeat`. *n/m*: not measured (see below); "
               "*% err*: share of requests that failed; throughput counts successes only, so a ratio "
               f"marked * (either side failed {FLAG:.0%} or more) compares what each engine chose to "
               "answer.\n")

    out.append("### Latency p50 / p99 (ms) and lod's p99 ÷ the best peer's\n")
    rows = []
    for c in classes:
        best = compared.get("best", {}).get(c)
        rows.append([c] + [_latency(engines[n]["classes"][c]) for n in names]
                    + [f"{best['p99_ratio']:.2f}{X} ({best['p99_peer']})" if best else NONE])
    out.extend(_table(["class", *names, "lod p99 ÷ best"], rows))

    out.append("### Server CPU per request (ms, the engine's whole process tree) and errors\n")
    rows = []
    for c in classes:
        row = [c]
        for n in names:
            cell = engines[n]["classes"][c]
            errors = sum(cell["errors"].values())
            text = _number(cell["server_cpu_ms_per_request"], 2)
            if errors:
                text += f" ({errors} err: {', '.join(f'{k} {X}{v}' for k, v in cell['errors'].items())})"
            row.append(text)
        rows.append(row)
    out.extend(_table(["class", *names], rows))
    client_cpu = [engines[n]["classes"][c]["client_cpu_ms_per_request"] for n in names for c in classes]
    client_cpu = [v for v in client_cpu if v is not None]
    if client_cpu:
        out.append(f"The load client itself used {min(client_cpu):.2f} to {max(client_cpu):.2f} ms of CPU "
                   "per request, on the same two cores.\n")

    out.append("### Engines: loading and memory\n")
    rows = []
    for n in names:
        e = engines[n]
        rate = scale["triples"] / e["load_seconds"] if e["load_seconds"] else None
        rows.append([n, _number(e["load_seconds"], 2), _number(rate, 0), _number(e["ready_seconds"], 2),
                     f"{e['peak_pss_bytes'] / 2**20:,.0f}", f"{e['peak_rss_bytes'] / 2**20:,.0f}",
                     str(e["restarts"]), "; ".join(e["notes"])])
    out.extend(_table(["engine", "load s", "triples/s", "ready s", "peak PSS MiB",
                       "peak RSS MiB (Σ VmHWM)", "restarts", "how"], rows))
    out.append("lod's load is the stage of `lod build data.nt` that parses the release's N-Triples dump "
               "(the file the peers load) into its store in memory; the store on disk is written from "
               "there while the build validates. rdflib-endpoint's load is "
               "its start-up (it parses the files before it serves). *ready*: from starting the server "
               "until it answered.\n")

    skipped = [(n, c, engines[n]["classes"][c]["skipped"]) for n in names for c in classes
               if engines[n]["classes"][c]["skipped"]]
    if skipped:
        out.append("Not measured (or not after the round named):\n")
        out.extend(f"- {n} / {c}: {reason}" for n, c, reason in skipped)
        out.append("")

    out.extend(_build(scale))
    out.extend(_checks(scale))
    if compared:
        out.append("### Targets\n")
        for what, met, figures in targets(scale, compared):
            mark = "met" if met else ("not met" if met is False else "cannot tell")
            out.append(f"- {what}: **{mark}** ({figures})")
        out.append("")
        out.extend(_losses(scale, compared))
    return out


def _cell_throughput(cell: dict[str, Any]) -> str:
    if not _measured(cell) and (cell["skipped"] or "timeout" in cell["errors"]):
        return "n/m"
    errors = sum(cell["errors"].values())
    # Errors bias throughput: an engine that turns expensive queries away answers cheap ones.
    return _number(cell["throughput"]) + (f" ({100 * errors / cell['requests']:.0f} % err)" if errors else "")


def _latency(cell: dict[str, Any]) -> str:
    if not cell["ok"]:
        return "n/m" if cell["skipped"] else NONE
    return f"{_number(cell['p50_ms'])} / {_number(cell['p99_ms'])}"


def _build(scale: dict[str, Any]) -> list[str]:
    lod, base = scale["build"]["lod"], scale["build"]["baseline"]
    out = ["### Build pipeline (seconds)\n"]
    b = base["stages"] if base else {}
    rows = []
    for stage, seconds in lod["stages"].items():
        # A stage of lod's named "map+store" does the work of the baseline's "map" and "store".
        parts = [p for p in BASELINE_STAGES.get(stage, stage.split("+")) if p in b]
        same = " + ".join(f"{b[p]:.2f}" for p in parts)
        rows.append([stage, f"{seconds:.2f}",
                     (f"{sum(b[p] for p in parts):.2f}" + (f" ({same})" if len(parts) > 1 else ""))
                     if parts else NONE])
    shown = {p for stage in lod["stages"] for p in BASELINE_STAGES.get(stage, stage.split("+"))}
    rows.extend([f"({stage})", NONE, f"{seconds:.2f}"] for stage, seconds in b.items() if stage not in shown)
    rows.append(["**whole command**", f"**{lod['wall']:.1f}**", f"**{base['wall']:.1f}**" if base else NONE])
    from_rdf = scale["build"].get("lod_from_rdf")
    if from_rdf:
        rows.append(["whole command from the N-Triples dump", f"{from_rdf['wall']:.1f}", NONE])
    rows.append(["peak RSS MiB", f"{lod['max_rss'] / 2**20:,.0f}",
                 f"{base['max_rss'] / 2**20:,.0f}" if base else NONE])
    out.extend(_table(["stage", "lod build", "rdflib + pySHACL"], rows))
    if base:
        out.append(f"lod build ÷ baseline, whole command: **{lod['wall'] / base['wall']:.2f}{X}** "
                   f"(below 1 is faster); {scale['data_triples'] / lod['wall']:,.0f} data triples per "
                   "second end to end. The baseline: `lod.read_records`, `lod.to_graph`, "
                   "`pyshacl.validate` (data + vocabulary, the same shapes), an rdflib Dataset, and "
                   "the same four dumps serialised by rdflib.\n")
    return out


def _checks(scale: dict[str, Any]) -> list[str]:
    checks = scale["checks"]
    bad = [c for c in checks if c["compared"] and not c["agree"]]
    describe = [c for c in checks if not c["compared"]]
    out = ["### Correctness\n"]
    out.append(f"{len(checks)} queries sent one at a time to every engine; "
               f"{len(checks) - len(bad) - len(describe)} of {len(checks) - len(describe)} compared "
               "queries gave the same number of results (rows, the ASK answer, distinct triples) "
               "everywhere." + (" Mismatches:" if bad else ""))
    out.append("")
    out.extend(f"- {c['class']} #{c['index']}: {c['counts']}" for c in bad)
    if describe:
        engines = list(describe[0]["counts"])
        counts = ", ".join(f"{e} {'/'.join(str(c['counts'].get(e, NONE)) for c in describe)}"
                           for e in engines)
        out.append(f"DESCRIBE is not compared (SPARQL leaves its result to the engine); triples: {counts}.")
    out.append("")
    return out


def _losses(scale: dict[str, Any], compared: dict[str, Any]) -> list[str]:
    best = compared.get("best", {})
    if not best:
        return []
    ranked = sorted(best.items(), key=lambda item: item[1]["throughput_ratio"])
    out = ["### Where lod loses most (throughput ÷ the best peer's, lowest first)\n"]
    for name, b in ranked[:4]:
        ours = scale["engines"][US]["classes"][name]
        out.append(f"- **{name}**: {b['throughput_ratio']:.2f}{X} of {b['throughput_peer']}, p99 "
                   f"{b['p99_ratio']:.1f}{X} of {b['p99_peer']}'s (lod p50 {_number(ours['p50_ms'])} ms, "
                   f"p99 {_number(ours['p99_ms'])} ms, {_number(ours['server_cpu_ms_per_request'], 2)} ms "
                   "CPU per request). First query of the sequence:\n")
        body = "\n".join(line for line in scale["examples"][name].splitlines()
                         if not line.startswith("PREFIX"))
        out.append(f"```sparql\n{body}\n```\n")
    return out


def smoke_status(document: dict[str, Any]) -> int:
    """0 when lod answered every class and no compared count differed. lod's 503s (its overload
    answer, which a busy machine provokes) are reported but do not fail the run; other errors do."""
    for scale in document["scales"]:
        ours = scale["engines"].get(US)
        if ours is None:
            return 1
        for cell in ours["classes"].values():
            if not cell["ok"] or any(error != "HTTP 503" for error in cell["errors"]):
                return 1
        if any(c["compared"] and not c["agree"] for c in scale["checks"]):
            return 1
    return 0
