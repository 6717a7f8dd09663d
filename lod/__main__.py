"""``python -m lod`` is the ``lod`` command."""

from lod.cli import main

main()
