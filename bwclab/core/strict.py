"""The one base model for every configuration and data file, and the constrained numbers they share."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """Unknown fields refused, values frozen, NaN and infinity refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Seconds = Annotated[float, Field(ge=0.0)]
Feet = Annotated[float, Field(ge=0.0)]
Token = Annotated[str, Field(pattern=r"^[!-~]{1,32}$", description="printable, no spaces, at most 32 characters")]
Line = Annotated[str, Field(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$", description="one line of text")]
