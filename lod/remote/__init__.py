"""Other SPARQL services: HTTP to them (:mod:`.http`), the client for remote endpoints
(:mod:`.client`), a remote store that holds releases and answers queries (:mod:`.store`,
:mod:`.queries`, :mod:`.publish`), the query runner the settings ask for (:mod:`.runner`), and
links to Wikidata (:mod:`.linking`).

Must not import: the web or the command line.
"""
