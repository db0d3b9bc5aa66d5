"""The pydantic base classes of every generated model, copied into the generated
package (``files_to_include``) and built on first use, not at ``import fluz``.

``fluz_graphql.base_model`` (ariadne-codegen's module, rewritten by the codegen plugin)
keeps ``UNSET`` and ``input_error_factory``, which ``fluz`` needs at import, and resolves
``BaseModel`` and ``InputModel`` from here through a module ``__getattr__`` the first time
they are asked for: by the first generated model module imported, or by a caller. Building
a pydantic class is what made ``import fluz`` slow (the first one loads half of pydantic's
schema machinery: ~10 ms, a tenth of ``import httpx, pydantic``; issue 11). The import
system's lock makes that first build happen once, whichever thread or event loop asks.

``BaseModel`` keeps ariadne-codegen's configuration (the plugin checks that every line of
it is here, so a changed ``[tool.ariadne-codegen]`` option fails ``make codegen`` instead of
being lost) and adds:

* ``hide_input_in_errors``: pydantic puts the offending value into ValidationError
  messages; for an AddBankCardInput that is a card number or CVV. Locations stay.
* the ``_fluz_info`` slot: the response metadata of a result (``fluz.response_info``),
  free until set and outside the fields, so ``==``, ``model_dump()``, copies and pickles
  ignore it.

``InputModel`` is the base of the generated input models: a model built with bad values
raises what ``base_model.input_error_factory`` makes of pydantic's error (``fluz`` sets it
to build ``fluz.ValidationError``). Results keep the plain ``BaseModel``: a custom
``__init__`` would make pydantic call Python for every nested result.
"""

from typing import Any

# Absolute here, where this file is type-checked too; the codegen plugin makes the copy's
# import relative (the generated package names nothing outside itself).
from fluz_graphql import base_model
from pydantic import BaseModel as PydanticBaseModel
from pydantic import ConfigDict, ValidationError


class BaseModel(PydanticBaseModel):
    __slots__ = ("_fluz_info",)

    model_config = ConfigDict(
        hide_input_in_errors=True,
        populate_by_name=True,
        validate_assignment=True,
        arbitrary_types_allowed=True,
        protected_namespaces=(),
        defer_build=True,
    )


class InputModel(BaseModel):
    """Base of the generated input models: bad values raise the client's error type."""

    model_config = ConfigDict(loc_by_alias=False)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            factory = base_model.input_error_factory
            if factory is None:
                raise
            # Any: in src/ (type-checked there too) this class is not fluz_graphql's.
            model: Any = type(self)
            error = factory(model, exc)
        else:
            return
        raise error  # outside the except block: pydantic's error (and the values) not chained
