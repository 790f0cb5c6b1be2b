"""YAML files, the bottom layer every reader of a YAML file stands on.

* :mod:`.core`: the YAML 1.2 core schema (what plain text reads as), shared by the
  loader, the dumper and the converter's fast writer;
* :mod:`.load`: a safe, fast loader (``read_yaml``, ``load_yaml``, ``load_yaml_file``)
  raising :class:`~xtape.errors.YamlError` ``path:line: invalid YAML: ...``;
* :mod:`.locate`: the lines of a few key paths, found later in a light second pass;
* :mod:`.dump`: a dumper people can read;
* :mod:`.check`: one collect-all-errors checker (``path:line: key: what``) with the
  ``kind``/``show`` helpers, used by the scenario, catalog, case-file and diff-rules readers.

It imports nothing of xtape's but :mod:`xtape.errors`: the readers above import it.
"""
