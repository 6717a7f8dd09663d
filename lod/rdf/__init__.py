"""RDF: records mapped to an rdflib graph with minted IRIs (:mod:`.mapping`), RDF files read as
input (:mod:`.inputs`) and the Oxigraph store (:mod:`.store`).

Must not import: validation, releases, queries, the web or the command line.
"""
