"""Records: typed records and their input checks (:mod:`.model`), read from CSV, JSON and the
official municipality directory with file and line in every error (:mod:`.sources`,
:mod:`.gv100ad`, :mod:`.gemeinden`).

Must not import: RDF mapping, validation, releases, queries, the web or the command line.
"""
