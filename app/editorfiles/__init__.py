"""Editor-written files (YAML front matter, TOML) read with line numbers and typed fields.

:mod:`.documents` loads a file into a :class:`~.documents.Document` (data plus the line of every
key path), :mod:`.fields` reads its fields with types, :mod:`.errors` holds the one error tree.
Shared infrastructure: it imports no area.
"""
