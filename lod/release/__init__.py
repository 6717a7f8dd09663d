"""Releases: a store, checksummed dumps, VoID and DCAT-AP.de written as one release and switched in
atomically (:mod:`.publish`, :mod:`.parallel`); what a build contains (:mod:`.manifest`) and the
metadata made from it (:mod:`.metadata`); the release directory on disk, its ``current`` link and
opening a build checked to be complete (:mod:`.layout`).

Must not import: queries, remote stores, the web or the command line.
"""
