"""Shaping a timeline for load tests and cuts: which entries are kept (``--where``,
``--sample``) and how many times they are published (``--multiply``).

One home per idea, shared by every command that takes the option (``cat``, ``convert``,
``replay``, ``diff``, ``cut``):

* :mod:`.document`: an entry as the document ``--where`` and ``--sample-by`` look at,
  ``{stream, id, fields, payload}``, the payload decoded by the stream's codec;
* :mod:`.where`: ``--where EXPR``, a JMESPath expression on that document;
* :mod:`.sample`: ``--sample 10%``, a deterministic choice by a keyed hash;
* :mod:`.multiply`: ``replay --multiply N``, N copies of every event.

:class:`xtape.transform.Transform` applies them between a source and its publisher (or
writer); ``cut`` and ``cat`` ask the same predicates of raw entries. No Redis imports;
``jmespath`` is imported only when an expression is given.
"""

from __future__ import annotations

from collections.abc import Sequence

from xtape.errors import UsageError
from xtape.shape.document import Documents
from xtape.shape.multiply import Multiply, multiply_from
from xtape.shape.sample import Sample
from xtape.shape.where import EntryTest, Where, entry_filter


def selection(
    *,
    where: str | None = None,
    sample: str | None = None,
    sample_by: str | None = None,
    seed: int | None = None,
    codecs: Sequence[tuple[str, str]] = (),
) -> EntryTest | None:
    """``--where``, ``--sample``, ``--sample-by`` and ``--seed`` (the sample's) as one
    test of an entry (None: every entry is kept); every option is checked here."""
    if sample is None and sample_by is not None:
        raise UsageError("--sample-by goes with --sample SHARE (e.g. --sample 10% --sample-by fields.user_id)")
    docs = Documents(codecs)  # (shared: an entry both look at is built and decoded once)
    return entry_filter(
        None if where is None else Where(where, codecs, docs=docs),
        None if sample is None else Sample.parse(sample, seed=seed, by=sample_by, codecs=codecs, docs=docs),
    )


__all__ = ["EntryTest", "Multiply", "Sample", "Where", "entry_filter", "multiply_from", "selection"]
