"""One constructor order for every error that points into a file: ``(path, line,
message)``, the order its message reads (``path:line: message``)."""

from __future__ import annotations

import inspect

import pytest

import xtape.errors as errors
from xtape.errors import LocatedError, XtapeError

LOCATED = sorted(
    (cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, LocatedError)),
    key=lambda cls: cls.__name__,
)
#: Built from other errors (each of which is located), not from a place.
GATHERING = {"ScenarioInvalid", "CatalogInvalid"}


@pytest.mark.parametrize(
    "cls", [c for c in LOCATED if c.__name__ not in GATHERING], ids=lambda c: c.__name__
)
def test_every_located_error_is_built_path_line_message(cls: type[LocatedError]) -> None:
    assert list(inspect.signature(cls).parameters) == ["path", "line", "message"]
    error = cls("streams.yaml", 7, "events[0].stream: expected a string")
    assert str(error) == "streams.yaml:7: events[0].stream: expected a string"
    assert (error.path, error.line, error.reason) == (
        "streams.yaml",
        7,
        "events[0].stream: expected a string",
    )
    assert str(cls("case.yaml", None, "cannot read")) == "case.yaml: cannot read"


def test_the_located_errors_are_the_ones_the_tree_names() -> None:
    names = {cls.__name__ for cls in LOCATED}
    assert names >= {
        "LocatedError",
        "YamlError",
        "ScenarioError",
        "CatalogError",
        "CaseError",
        "DiffRulesError",
    }


def test_every_error_about_a_file_takes_its_path_first() -> None:
    """Errors that are not located at a line (a damaged recording, a report that is not
    one) still name their file first."""
    about_a_file = [
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type)
        and issubclass(cls, XtapeError)
        and "__init__" in vars(cls)  # (Exception's own has no signature to read)
        and "path" in inspect.signature(cls).parameters
    ]
    assert {cls.__name__ for cls in about_a_file} >= {"RecordingError", "DamagedRecording", "InvalidReport"}
    for cls in about_a_file:
        assert next(iter(inspect.signature(cls).parameters)) == "path", cls.__name__
