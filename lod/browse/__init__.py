"""Lists, facets and search for people who do not write SPARQL: an index built with each release
(:mod:`lod.browse.index`) and read by the server (:mod:`lod.browse.lists`, :mod:`lod.browse.search`)."""
