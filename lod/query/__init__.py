"""The query layer: every query is parsed (:mod:`lod.sparql`), decided on and prepared
(:mod:`.prepare`), evaluated with its result written in the client's format (:mod:`.evaluate`,
:mod:`.results`), run bounded in a confined child process (:mod:`.executor`, :mod:`.sandbox`,
:mod:`.gateway`) by a query runner (:mod:`.runners`), and cached (:mod:`.cache`); the queries of
pages (:mod:`.describe`) and the stored queries (:mod:`.stored`) live here too.

Must not import: remote stores, the web or the command line.
"""
