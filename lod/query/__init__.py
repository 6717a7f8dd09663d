"""The query layer: every query is parsed (:mod:`lod.sparql`), decided on and prepared
(:mod:`.prepare`), and run bounded in a confined child process (:mod:`.executor`,
:mod:`.sandbox`, :mod:`.gateway`); results are serialised (:mod:`.results`) and cached
(:mod:`.cache`); the queries of pages live here too (:mod:`.describe`).

Must not import: remote stores, the web or the command line.
"""
