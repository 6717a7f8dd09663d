"""Other SPARQL services: the client for remote endpoints (:mod:`.client`, the only module that
imports SPARQLWrapper), a remote store that holds releases and answers queries (:mod:`.store`,
:mod:`.queries`, :mod:`.publish`), and links to Wikidata (:mod:`.linking`).

Must not import: the web or the command line.
"""
