"""The pydantic models of a scenario, built from the tables of keys of :mod:`.model`.

What Python code builds a scenario with (:meth:`Scenario.model_validate
<xtape.scenario.model.Scenario.model_validate>`, :class:`EventSpec`): pydantic runs the
same checks (the tables of :mod:`.keys`) as the light path that loading a file runs, and says the same (its
``ValidationError`` carries our message in each error's ``ctx``). Imported only when
Python code asks for them: a command that loads a file never imports pydantic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model, model_validator
from pydantic_core import PydanticCustomError

from xtape.scenario import values
from xtape.scenario.keys import EVENT_TABLE, HEAD_TABLE, Check, Key
from xtape.scenario.values import Invalid

__all__ = ["EventSpec", "ScenarioModel"]


def _pydantic(check: Check) -> Callable[[Any], Any]:
    """``check`` with its refusal as pydantic's error (our message and where, in its ``ctx``)."""

    def checked(value: Any) -> Any:
        try:
            return check(value)
        except Invalid as error:
            raise PydanticCustomError(
                "xtape", "{message}", {"message": error.message, "subloc": error.subloc}
            ) from None

    checked.__name__ = getattr(check, "__name__", "check")
    return checked


def _fields(table: dict[str, Key]) -> dict[str, Any]:
    """pydantic field definitions of a table's checked keys (the check does the typing)."""
    fields: dict[str, Any] = {}
    for name, key in table.items():
        if key.check is None:
            continue
        annotation = Annotated[Any, BeforeValidator(_pydantic(key.check))]
        if key.required:
            fields[name] = (annotation, ...)
        elif key.factory is not None:
            fields[name] = (annotation, Field(default_factory=key.factory))
        else:
            fields[name] = (annotation, key.default)
    return fields


class _EventBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    KEYS: ClassVar[dict[str, Key]] = EVENT_TABLE

    @model_validator(mode="after")
    def _one_source(self) -> _EventBase:
        fields = self.__dict__
        try:
            values.one_source(fields["payload"], fields["generator"], fields["id"], fields["repeat"])
        except Invalid as error:
            raise PydanticCustomError("xtape", "{message}", {"message": error.message, "subloc": ()}) from None
        return self


class _HeadBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    KEYS: ClassVar[dict[str, Key]] = HEAD_TABLE


if TYPE_CHECKING:  # what the models built below hold, for type checkers

    class EventSpec(_EventBase):
        stream: str
        payload: Any
        generator: bool | str | None
        delay: float | int
        repeat: int
        interval: float | int
        variables: dict[str, Any]
        id: str | None
        template: bool
        codec: str | None

    class ScenarioModel(_HeadBase):  # (its other keys: those of Scenario)
        events: Sequence[EventSpec]

else:
    EventSpec = create_model("EventSpec", __base__=_EventBase, __module__=__name__, **_fields(EVENT_TABLE))
    EventSpec.__doc__ = """One ``events:`` entry: what to publish on which stream, when, how many times.

    Built from :data:`~xtape.scenario.model.EVENT_TABLE` (its keys, checks and defaults)."""

    ScenarioModel = create_model(
        "ScenarioModel",
        __base__=_HeadBase,
        __module__=__name__,
        **_fields(HEAD_TABLE),
        events=(Sequence[EventSpec], Field(min_length=1)),
    )
    ScenarioModel.__doc__ = """A scenario file's data, checked: what :meth:`Scenario.model_validate
    <xtape.scenario.model.Scenario.model_validate>` builds a :class:`Scenario` from."""
