"""Validation: SHACL by pySHACL, the reference (:mod:`.pyshacl`, the only module that imports it),
and the shapes compiled to SPARQL (:mod:`.compiler`, :mod:`.components`); the typed report
(:mod:`.report`) and the check of records from reading to report (:mod:`.pipeline`).

Must not import: releases, queries, the web or the command line.
"""
