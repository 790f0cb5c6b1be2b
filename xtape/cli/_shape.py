"""``--where``, ``--sample`` and ``--sample-by``: the options of every command that
selects entries by content (cat, convert, replay, diff, cut); ``replay --multiply``'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from xtape.cli._codecs import codec_pairs
from xtape.cli.decl import Opt
from xtape.errors import UsageError

if TYPE_CHECKING:
    from xtape.shape import EntryTest, Multiply, Where

WhereOpt = Annotated[
    str | None,
    Opt(
        "--where",
        metavar="EXPR",
        help="Only entries for which this JMESPath expression is true, evaluated on "
        "{stream, id, fields: {name: value}, payload: <decoded by the stream's codec>}, "
        "e.g. \"payload.status == 'rejected'\" or \"to_number(fields.amount) > `100`\" (docs/load-tests.md).",
        show_default=False,
    ),
]
SampleOpt = Annotated[
    str | None,
    Opt(
        "--sample",
        metavar="SHARE",
        help="Only a share of the entries (10% or 0.1), chosen by a hash of stream and entry id: "
        "the same entries on every run (--seed draws another sample).",
        show_default=False,
    ),
]
SampleByOpt = Annotated[
    str | None,
    Opt(
        "--sample-by",
        metavar="FIELD_PATH",
        help="With --sample: keep whole groups, hashing this value instead "
        "(fields.user_id, or a path in the decoded payload: payload.customer.id).",
        show_default=False,
    ),
]
SampleSeedOpt = Annotated[
    int | None,
    Opt("--seed", metavar="N", help="With --sample: another sample (default 0).", show_default=False),
]


def entry_selection(
    where: str | None, sample: str | None, sample_by: str | None, seed: int | None, codec: list[str] | None
) -> EntryTest | None:
    """``--where``/``--sample``/``--sample-by``/``--seed`` (of a command whose ``--seed``
    is the sample's alone) as one test of an entry; None when none is given."""
    if seed is not None and sample is None:
        raise UsageError("--seed goes with --sample (it draws another sample)")
    if where is None and sample is None and sample_by is None:
        return None
    from xtape.shape import selection

    return selection(where=where, sample=sample, sample_by=sample_by, seed=seed, codecs=codec_pairs(codec))


def where_test(where: str | None, codec: list[str] | None) -> Where | None:
    """``--where`` compiled (None without it); payloads decoded as ``--codec`` says."""
    if where is None:
        return None
    from xtape.shape import Where

    return Where(where, codec_pairs(codec))


def multiply_option(
    copies: int | None, copy_map: str | None, into_same: bool, copy_field: str | None, suffix: list[str] | None
) -> Multiply | None:
    """``replay --multiply`` and its ``--copy-*`` options, checked (None: none given;
    :mod:`xtape.shape` is imported only when one is)."""
    if copies is None and copy_map is None and not into_same and copy_field is None and not suffix:
        return None
    from xtape.shape import multiply_from

    return multiply_from(
        copies, copy_map=copy_map, into_same=into_same, copy_field=copy_field, suffix_fields=tuple(suffix or ())
    )
