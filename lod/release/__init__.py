"""Releases: a store, checksummed dumps, VoID and DCAT-AP.de written as one release and switched in
atomically (:mod:`.publish`, :mod:`.metadata`, :mod:`.parallel`).

Must not import: queries, remote stores, the web or the command line.
"""
