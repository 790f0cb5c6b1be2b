"""A usage error says what typer says, without pydantic (issue 18, item 14).

typer's coercion of a number builds a pydantic adapter (and imports pydantic) only to
say that ``x`` is no number; :func:`xtape.cli._params.quick_refusal` says it alone, in
the adapter's words, for the words it is sure of, and steps aside for the others.
"""

from __future__ import annotations

from typing import Any

import pytest

#: Words a user might give for a number: refused or not, typer's word stands.
WORDS = ["x", "abc", "", " ", "-", "+", ".", "_", "e", "e5", "ten", "a b", "True", "none", "inf", "-inf",
         "Infinity", "NaN", "nan ", "+iNf", "1", "1.5", "1e3", "x1", "\u0661", "\u00e9", "-x", "0x", "1_0"]  # fmt: skip


def test_a_word_that_is_no_number_is_refused_in_typers_words() -> None:
    typer_coercion = pytest.importorskip("typer._coercion")
    import typer
    from typer.main import get_command

    from xtape.cli import app
    from xtape.cli._params import quick_refusal

    group = get_command(app)
    refused = stepped_aside = 0
    for command in [group, *group.commands.values()]:  # type: ignore[attr-defined]
        for param in command.params:
            descriptor = getattr(param, "type_descriptor", None)
            if descriptor is None or descriptor.annotation not in (int, float):
                continue
            real = typer_coercion.build_runtime_param(descriptor)
            for word in WORDS:
                message = quick_refusal(descriptor.annotation, descriptor.parameter_info, word)
                if message is None:
                    stepped_aside += 1
                    continue
                with pytest.raises(typer.BadParameter) as caught:
                    real.coerce(word, param=param, ctx=None)
                assert caught.value.message == message, (command.name, param.name, word)
                refused += 1
    assert refused > 50 and stepped_aside > 50


@pytest.mark.parametrize("value", [["x"], 3, None, b"x"])
def test_what_is_not_one_word_is_left_to_typer(value: Any) -> None:
    from xtape.cli._params import quick_refusal

    assert quick_refusal(int, None, value) is None


@pytest.mark.parametrize(
    "text",
    ["xtape: error: plain", "", "[bold]not markup[/bold] :smile: 1.5 http://x", "a\rb\x07c\x08d\x0be\x0cf",
     "\x1b[31mred\x1b[0m", "é ✓ \u200b", "two\nlines", "x" * 300, "tab\there"],
)
@pytest.mark.parametrize("to_stderr", [False, True])
def test_a_plain_line_is_written_as_rich_writes_it(
    text: str, to_stderr: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    from rich.console import Console

    from xtape.cli.consoles import LazyConsole

    options = {"highlight": False, "soft_wrap": True, "emoji": False, **({"stderr": True} if to_stderr else {})}
    LazyConsole(**options).print(text, markup=False)
    quick = capsys.readouterr()
    Console(**options).print(text, markup=False)  # type: ignore[arg-type]
    assert quick == capsys.readouterr()
    assert (quick.err if to_stderr else quick.out) != ""
