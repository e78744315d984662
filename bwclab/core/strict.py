"""The one base model for every configuration and data file, and the constrained numbers they share."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

_NUMBERS = ("int", "float")
_NOT_SCHEMAS = ("metadata", "serialization")  # parts of a schema that say nothing about validation


def _not_a_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("bool_for_number", "expected a number, not true or false (YAML reads "
                                  "true/false, yes/no and on/off as booleans)")
    return value


def _numbers_refuse_bools(schema: Any) -> Any:
    """The same core schema, with every int and float (in lists, dicts, tuples, unions and nested models alike)
    refusing a bool: pydantic's lax mode would read `fps: true` as 1 fps."""
    if isinstance(schema, list):
        return [_numbers_refuse_bools(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "function-before" and schema.get("function", {}).get("function") is _not_a_bool:
        return schema  # a nested model, already done
    out = {k: v if k in _NOT_SCHEMAS else _numbers_refuse_bools(v) for k, v in schema.items()}
    if out.get("type") in _NUMBERS:
        return core_schema.no_info_before_validator_function(_not_a_bool, out)
    return out


class Strict(BaseModel):
    """Unknown fields refused, values frozen, NaN and infinity refused, and no boolean taken for a number."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[BaseModel], handler: GetCoreSchemaHandler, /) -> CoreSchema:
        return _numbers_refuse_bools(handler(source))  # type: ignore[no-any-return]


Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Seconds = Annotated[float, Field(ge=0.0)]
Feet = Annotated[float, Field(ge=0.0)]
Token = Annotated[str, Field(pattern=r"^[!-~]{1,32}$", description="printable, no spaces, at most 32 characters")]
Line = Annotated[str, Field(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$", description="one line of text")]
