"""The query layer: every query is parsed, decided on in its parsed form, and run bounded.

Owns: preparing a query for the engine (:mod:`.prepare`). Must not import Flask or click.
"""
