"""ariadne-codegen plugin that shapes the generated package for the FluzClient layer.

Enabled in ``[tool.ariadne-codegen] plugins`` as ``fluz._codegen.plugin.FluzCodegenPlugin``.
What it changes, and why:

* **Optional idempotency keys.** Every input field named ``idempotencyKey`` becomes
  ``Optional[...] = None`` in the generated input models, although the schema keeps it
  required (``UUID!`` or ``String!``). A caller may leave it out: ``FluzClient`` fills in
  a fresh UUID4 before the first attempt and reuses that key on every retry of the call,
  so a retried mutation is never processed twice. The generated client itself sends
  whatever the model holds; called directly, without ``FluzClient``, a missing key is
  rejected by the server's validation (the field is required there), never invented.
* **Secrets out of reprs.** Every field, of a result or an input model, whose GraphQL
  name is in :data:`SECRET_FIELDS` is generated with ``Field(..., repr=False)``, so
  ``repr()``/``str()`` of a model (and so tracebacks, log lines and debugger views that
  print it) never show a gift-card code, PIN or redemption link, a card number, CVV or
  token. Only the repr changes: the attribute, ``model_dump()`` and the wire are as before.
* **Typed lazy ``__init__``.** With ``lazy_imports`` the package ``__init__`` resolves
  names through module-level ``__getattr__``/``__dir__`` hooks that ariadne-codegen emits
  untyped. They are annotated and moved under ``if not TYPE_CHECKING:`` so that type
  checkers resolve every name through the ``TYPE_CHECKING`` imports and a misspelt
  import stays an error instead of becoming ``Any``.
* **Open enums.** Generated enums derive from ``_OpenStrEnum`` (``str, Enum`` with a
  ``_missing_`` hook): a value the schema does not list (Fluz adds values; its samples
  show spellings like ``"Visa"`` and ``"active"``) parses to a pseudo-member equal to the
  string instead of failing the whole response, e.g. that of a completed purchase.
* **No asyncio at import.** ``async_base_client.py`` imports asyncio inside the
  subscription method, the only user, not at the top: ``import fluz`` stays cheaper
  (issue 11) and a trio program never loads asyncio.
* **No pydantic.main at import.** ``async_base_client.py`` tells a model variable from
  others without importing pydantic's ``BaseModel``, the ~18 ms of ``pydantic.main``
  (issue 11): no model exists before that module is loaded, so until then none is one.
* **Header comment.** Every generated module starts with a fixed "do not edit" comment
  (no timestamp, no paths) so the output stays byte-deterministic.

* **No pydantic class at import.** ``base_model.py`` keeps ``UNSET`` and
  ``input_error_factory`` (all ``import fluz`` needs of it) and resolves ``BaseModel`` and
  ``InputModel`` through a module ``__getattr__`` from ``base_classes.py``
  (src/fluz/_codegen/base_classes.py, copied by ``files_to_include``), which builds them on
  first use: building a pydantic class cost ``import fluz`` ~10 ms (issue 11).

``BaseModel`` has ariadne-codegen's configuration (checked line by line against
base_classes.py), ``hide_input_in_errors`` and one slot, no private attributes: pydantic
initialises those in Python for every instance, which doubled the validation cost of a
result page. ``FluzClient`` keeps its response metadata in that slot (``fluz._response``).
"""

import ast
import re
import textwrap
from copy import deepcopy
from pathlib import Path
from typing import Any

from ariadne_codegen.plugins.base import Plugin
from graphql import (
    DirectiveLocation,
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLDirective,
    GraphQLField,
    GraphQLFloat,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    Visitor,
    get_named_type,
    parse,
    print_ast,
    visit,
)

__all__ = ["FluzCodegenPlugin"]

IDEMPOTENCY_KEY_FIELD = "idempotencyKey"
# GraphQL field names whose values are secret, on result types and input types alike:
# generated with ``Field(..., repr=False)``. Names, not ``Type.field``: a name is hidden
# on every type that has it, so a new type or operation selecting, say, a ``cvv`` is
# covered without touching this list. The price is that same-named harmless fields are
# hidden too (the ``code`` of an error or of an MCC); they stay readable as attributes.
SECRET_FIELDS = frozenset(
    {
        "code",  # gift-card code (GiftCardRedemptionDetails)
        "pin",  # gift-card PIN
        "url",  # gift-card redemption link: whoever has it can spend the card
        "cardNumber",  # revealed virtual card, AddBankCardInput
        "cvv",
        "token",  # user access token (UserAccessToken, older variant)
        "accessToken",
        "refreshToken",
        "virtualCardPIN",  # RequestVirtualCardInput
        "pinAuthToken",
        "publicToken",  # Plaid public token (CompletePlaidLinkInput)
        "linkToken",  # Plaid link token
    }
)
FILE_COMMENT = (
    "# Generated by ariadne-codegen from schema/fluz.graphql and queries/ (make codegen).\n"
    "# Do not edit by hand: `make drift` fails when this file differs from a fresh run."
)

# Money (src/fluz/_codegen/money.py, copied into the generated package). Every GraphQL
# ``Float`` is a decimal quantity in this API (amounts, limits, balances, rates): inputs take
# MoneyInput (at most 2 decimals) or, for the names below, DecimalInput; results hold
# ``Decimal`` (DecimalResult: dumped to JSON as a number). Keyed on the built-in Float, not
# on a schema scalar, because Fluz's schema says Float and `make schema` would silently put
# it back over a custom scalar.
NON_MONEY_FLOAT_INPUTS = frozenset(
    {"cashbackPercentage", "cashbackPercentageGte", "cashbackPercentageLte"}
)
# Amounts Fluz sends as strings ("100.00", "6.00000"): results hold ``Decimal`` for these
# String fields too. Names, like SECRET_FIELDS; tests/codegen checks that each is a String
# field of the schema, so a rename by `make schema` fails a test instead of silently
# turning an amount back into a str.
MONEY_STRING_FIELDS = frozenset(
    {
        "availableBalance",  # CashBalance, RewardsBalance
        "totalBalance",
        "pendingBalance",
        "lifetimeBalance",
        "totalCashBalance",  # UserCashBalance
        "availableCashBalance",
        "lifetimeCashBalance",
        "depositAmount",  # CashBalanceDeposit
        "depositFee",
        "amount",  # Withdraw (a String there; Transaction's is a Float)
        "processingFee",  # Withdraw
        "chargedFee",
        "denomination",  # StockInfoFixedType
        "minDenomination",  # StockInfoVariableType
        "maxDenomination",
    }
)
MONEY_INPUT = "MoneyInput"
DECIMAL_INPUT = "DecimalInput"
DECIMAL_RESULT = "DecimalResult"

# Client-side nullability (queries/README.md): `@required` on a field of an operation or
# fragment makes its generated attribute non-Optional (a list: list[X], items non-null too).
# pydantic then refuses a null there, which FluzClient reports as ResponseDecodeError naming
# the field. The directive exists only at codegen time: process_schema declares it (so the
# schema file stays Fluz's) and generate_operation_str strips it from the text sent.
REQUIRED_DIRECTIVE = "required"

# Input models derive from InputModel (src/fluz/_codegen/base_classes.py): a model built
# with bad values raises what `input_error_factory` makes of pydantic's error. fluz sets the
# factory (fluz._validation) to build fluz.ValidationError, the error of the client's own
# checks, so one `except fluz.ValidationError` catches bad input wherever it is found.
INPUT_MODEL_BASE = "InputModel"
# base_model.py is rewritten to stay free of pydantic classes: `import fluz` needs UNSET and
# input_error_factory from it, and building a pydantic class is what made that import slow
# (issue 11). BaseModel and InputModel move to base_classes.py (copied by files_to_include)
# and are built on first use, through a module __getattr__.
BASE_CLASSES_FILE = "base_classes.py"
_BASE_MODEL_CLASS = re.compile(
    r"\n*class BaseModel\(PydanticBaseModel\):\n    model_config = ConfigDict\(\n"
    r"(?P<config>(?:        [^\n]*\n)+)    \)\n"
)
_UNSET = "UNSET = UnsetType()\n"
_BASE_MODEL_IMPORT = "from fluz_graphql import base_model\n"
_IMPORTS_BEFORE = (
    "from pydantic import BaseModel as PydanticBaseModel\nfrom pydantic import ConfigDict\n"
)
_IMPORTS_AFTER = "from typing import TYPE_CHECKING, Callable, Optional\n"
_LAZY_BASE_SOURCE = """

# Set by the fluz package: turns pydantic's error for an input model into the client's
# ValidationError. None (fluz_graphql used on its own): pydantic's error is raised.
input_error_factory: Optional[Callable[[type["InputModel"], "ValidationError"], Exception]] = None

if TYPE_CHECKING:
    from pydantic import ValidationError

    from .base_classes import BaseModel as BaseModel
    from .base_classes import InputModel as InputModel
else:

    def __getattr__(name: str) -> object:
        # The pydantic classes are built on first use (base_classes.py), not when this
        # module is imported for UNSET: `import fluz` stays cheap (issue 11). The import
        # lock builds them once, whichever thread asks first.
        if name not in ("BaseModel", "InputModel"):
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from . import base_classes

        value = getattr(base_classes, name)
        globals()[name] = value  # later lookups skip this hook
        return value
"""

OPEN_ENUM_BASE = "_OpenStrEnum"
_OPEN_ENUM_SOURCE = f'''
class {OPEN_ENUM_BASE}(str, Enum):
    """A string enum that keeps values it does not know instead of rejecting them.

    Fluz adds enum values without notice and its samples show non-canonical spellings
    ("Visa", "active"); one unknown value must not make a whole response, such as a
    completed purchase, unparseable. An unknown string becomes a pseudo-member that
    equals its value but is not one of the declared members.
    """

    @classmethod
    def _missing_(cls, value: object) -> "{OPEN_ENUM_BASE} | None":
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member
'''
_LAZY_INIT_HOOKS = ("__getattr__", "__dir__")

# async_base_client.py uses asyncio only to time out a subscription's websocket handshake
# (which FluzClient never makes). Imported at the top it cost `import fluz` ~25 ms, an
# eighth of what fluz adds to `import httpx, pydantic` (issue 11); a trio program never
# needs it. So it is imported in that method.
_ASYNCIO_IMPORT = "import asyncio\n"
_WS_CONNECT = "        async with ws_connect(\n"
# Its one check for a pydantic model (_convert_value) imported pydantic's BaseModel at the
# top, and with it pydantic.main and the schema machinery: ~18 ms, the largest share of
# `import fluz` left (issue 11). The check looks the module up instead of importing it.
_MODEL_IMPORT = "from pydantic import BaseModel as PydanticBaseModel\n"
_JSON_IMPORT = "import json\n"  # `import sys` goes after it, in isort's order
_MODEL_CHECK = "        if isinstance(value, PydanticBaseModel):\n"
_LOOKED_UP_MODEL_CHECK = """\
        # No model exists before pydantic.main is imported (by the first model class):
        # until then nothing is one, and `import fluz` does not pay for it (issue 11).
        main = sys.modules.get("pydantic.main")
        if main is not None and isinstance(value, main.BaseModel):
"""


# The TypedDict of the generated methods' **kwargs (src/fluz/_codegen/call_options.py,
# copied into the generated package).
CALL_OPTIONS_DICT = "CallOptionsDict"


class CodegenPluginError(RuntimeError):
    """The ariadne-codegen output no longer has the shape this plugin rewrites."""


class FluzCodegenPlugin(Plugin):
    """Optional idempotency keys, secrets out of reprs and validation errors, typed lazy
    ``__init__``, open enums, money as Decimal, snake_case input keywords, ``@required``."""

    def __init__(self, schema: GraphQLSchema, config_dict: dict[str, Any]) -> None:
        super().__init__(schema, config_dict)
        # generated method name -> (operation, root field name), for the docstrings
        self._operations: dict[str, tuple[OperationDefinitionNode, str]] = {}
        # operation result alias -> the fragment class it is (see generate_result_types_module)
        self._fragment_aliases: dict[str, str] = {}
        included = config_dict.get("tool", {}).get("ariadne-codegen", {}).get("files_to_include")
        # the copy of base_classes.py the generated package gets (see _lazy_base_model)
        self._base_classes = next(
            (Path(p) for p in included or () if Path(p).name == BASE_CLASSES_FILE), None
        )

    def process_schema(self, schema: GraphQLSchema) -> GraphQLSchema:
        if all(d.name != REQUIRED_DIRECTIVE for d in schema.directives):
            schema.directives += (
                GraphQLDirective(
                    name=REQUIRED_DIRECTIVE,
                    locations=[DirectiveLocation.FIELD],
                    description="fluz-client codegen only: the field is never null here.",
                ),
            )
        return schema

    def generate_operation_str(
        self, operation_str: str, operation_definition: ExecutableDefinitionNode
    ) -> str:
        document = parse(operation_str, no_location=True)
        stripped = visit(document, _DropDirective(REQUIRED_DIRECTIVE))
        assert isinstance(stripped, DocumentNode)
        return "\n\n".join(print_ast(definition) for definition in stripped.definitions)

    def get_file_comment(self, comment: str, code: str, source: str | None = None) -> str:
        return FILE_COMMENT

    def copy_code(self, copied_code: str) -> str:
        if _ASYNCIO_IMPORT in copied_code:
            return _look_up_model_class(_import_asyncio_in_subscriptions(copied_code))
        if _UNSET in copied_code:
            if self._base_classes is None:
                raise CodegenPluginError(f"{BASE_CLASSES_FILE} is not in files_to_include")
            return _lazy_base_model(copied_code, self._base_classes)
        if _BASE_MODEL_IMPORT in copied_code:  # base_classes.py
            return copied_code.replace(_BASE_MODEL_IMPORT, "from . import base_model\n", 1)
        return copied_code

    def generate_input_class(
        self, class_def: ast.ClassDef, input_type: GraphQLInputObjectType
    ) -> ast.ClassDef:
        class_def.bases = [
            ast.Name(id=INPUT_MODEL_BASE, ctx=ast.Load()) if _is_name(base, "BaseModel") else base
            for base in class_def.bases
        ]
        _set_docstring(class_def, input_class_docstring(class_def, input_type), indent=4)
        return class_def

    def generate_client_method(
        self,
        method_def: ast.FunctionDef | ast.AsyncFunctionDef,
        operation_definition: OperationDefinitionNode,
    ) -> ast.FunctionDef | ast.AsyncFunctionDef:
        (root,) = operation_definition.selection_set.selections
        assert isinstance(root, FieldNode)
        parent = (
            self.schema.mutation_type
            if operation_definition.operation is OperationType.MUTATION
            else self.schema.query_type
        )
        assert parent is not None
        # The docstring is added in generate_client_module, once ShorterResultsPlugin has
        # rewritten the method (its return type and the imports at the top of its body).
        self._operations[method_def.name] = (operation_definition, root.name.value)
        return method_def

    def generate_client_code(self, generated_code: str) -> str:
        # With lazy_imports, ariadne-codegen puts each method's result import at the top of
        # the method after the plugin hooks ran, above the docstring added below, which then
        # is a mere string statement. Move each docstring back in front of that import.
        return _LAZY_IMPORT_THEN_DOCSTRING.sub(_docstring_first, generated_code)

    def generate_client_module(self, module: ast.Module) -> ast.Module:
        used = _name_fragment_classes(module, self._fragment_aliases)
        if used:
            module.body.insert(
                0,
                ast.ImportFrom(
                    module="fragments", names=[ast.alias(n) for n in sorted(used)], level=1
                ),
            )
        for node in ast.walk(module):
            if not isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
                continue
            found = self._operations.get(node.name)
            if found is None:
                continue
            operation, root_name = found
            parent = (
                self.schema.mutation_type
                if operation.operation is OperationType.MUTATION
                else self.schema.query_type
            )
            assert parent is not None
            doc = method_docstring(node, operation, root_name, parent.fields[root_name])
            _set_docstring(node, doc, indent=8)
            if node.args.kwarg is not None:
                # Typed per-call keywords: a misspelt option is a type error at the call.
                node.args.kwarg.annotation = ast.Subscript(
                    value=ast.Name(id="Unpack", ctx=ast.Load()),
                    slice=ast.Name(id=CALL_OPTIONS_DICT, ctx=ast.Load()),
                    ctx=ast.Load(),
                )
        module.body[:0] = [
            ast.ImportFrom(module="typing", names=[ast.alias("Unpack")], level=0),
            ast.ImportFrom(module="call_options", names=[ast.alias(CALL_OPTIONS_DICT)], level=1),
        ]
        return module

    def generate_input_field(
        self,
        field_implementation: ast.AnnAssign,
        input_field: GraphQLInputField,
        field_name: str,
    ) -> ast.AnnAssign:
        if field_name in SECRET_FIELDS:
            _hide_from_repr(field_implementation, field_name)
        if get_named_type(input_field.type) is GraphQLFloat:
            money = DECIMAL_INPUT if field_name in NON_MONEY_FLOAT_INPUTS else MONEY_INPUT
            _replace_name(field_implementation.annotation, "float", money)
        _alias_for_validation_and_serialization(field_implementation)
        if field_name != IDEMPOTENCY_KEY_FIELD:
            return field_implementation
        annotation = field_implementation.annotation
        if not _is_optional(annotation):
            field_implementation.annotation = ast.Subscript(
                value=ast.Name(id="Optional", ctx=ast.Load()), slice=annotation, ctx=ast.Load()
            )
        value = field_implementation.value
        if value is None:
            field_implementation.value = ast.Constant(value=None)
        elif isinstance(value, ast.Call) and _is_name(value.func, "Field"):
            value.keywords = [kw for kw in value.keywords if kw.arg != "default"]
            value.keywords.append(ast.keyword(arg="default", value=ast.Constant(value=None)))
        else:
            raise CodegenPluginError(
                f"unexpected default for input field {field_name}: {ast.unparse(value)}"
            )
        field_implementation.simple = 1
        return field_implementation

    def generate_result_field(
        self,
        field_implementation: ast.AnnAssign,
        operation_definition: ExecutableDefinitionNode,
        field: FieldNode,
    ) -> ast.AnnAssign:
        # The schema name, not the alias: `secret: code` is as secret as `code`.
        name = field.name.value
        if name in SECRET_FIELDS:
            _hide_from_repr(field_implementation, name)
        annotation = field_implementation.annotation
        _replace_name(annotation, "float", DECIMAL_RESULT)
        if name in MONEY_STRING_FIELDS:
            _replace_name(annotation, "str", DECIMAL_RESULT)
        if any(d.name.value == REQUIRED_DIRECTIVE for d in field.directives or ()):
            field_implementation.annotation = _required(annotation)
        return field_implementation

    def generate_result_types_module(
        self, module: ast.Module, operation_definition: ExecutableDefinitionNode
    ) -> ast.Module:
        _import_if_used(module, ".money", DECIMAL_RESULT, level=1)
        # `PurchaseGiftCardPurchaseGiftCard = GiftCardPurchase`: remembered so that the
        # client's signatures name the fragment class (what help() and IDEs show).
        fragments = {
            alias.name
            for node in module.body
            if isinstance(node, ast.ImportFrom) and node.module == "fragments"
            for alias in node.names
        }
        for node in module.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Name)
                and node.value.id in fragments
            ):
                self._fragment_aliases[node.targets[0].id] = node.value.id
        return module

    def generate_fragments_module(
        self,
        module: ast.Module,
        fragments_definitions: dict[str, FragmentDefinitionNode],
    ) -> ast.Module:
        _import_if_used(module, ".money", DECIMAL_RESULT, level=1)
        _alias_trivial_subclasses(module)
        return module

    def generate_inputs_module(self, module: ast.Module) -> ast.Module:
        for node in module.body:
            if isinstance(node, ast.ImportFrom) and node.module == "base_model":
                node.names = [
                    ast.alias(name=INPUT_MODEL_BASE) if alias.name == "BaseModel" else alias
                    for alias in node.names
                ]
        _import_if_used(module, ".money", DECIMAL_INPUT, level=1)
        _import_if_used(module, ".money", MONEY_INPUT, level=1)
        # The Optional[...] added above needs the name; every inputs module with a
        # nullable field already imports it, but do not rely on that.
        for node in module.body:
            if isinstance(node, ast.ImportFrom) and node.module == "typing":
                if not any(alias.name == "Optional" for alias in node.names):
                    node.names.append(ast.alias(name="Optional"))
                return module
        module.body.insert(
            0, ast.ImportFrom(module="typing", names=[ast.alias("Optional")], level=0)
        )
        return module

    def generate_init_module(self, module: ast.Module) -> ast.Module:
        # With lazy_imports the package __init__ resolves names through a module-level
        # __getattr__. Type checkers already see every name via the TYPE_CHECKING
        # imports; hiding the (untyped) hook from them keeps a misspelt import an error
        # instead of a silent Any.
        hooks = [
            node
            for node in module.body
            if isinstance(node, ast.FunctionDef) and node.name in _LAZY_INIT_HOOKS
        ]
        if not hooks:
            return module
        for hook in hooks:
            _annotate_lazy_hook(hook)
        first = module.body.index(hooks[0])
        module.body = [node for node in module.body if node not in hooks]
        guard = ast.If(
            test=ast.UnaryOp(op=ast.Not(), operand=ast.Name(id="TYPE_CHECKING", ctx=ast.Load())),
            body=list(hooks),
            orelse=[],
        )
        module.body.insert(first, guard)
        ast.fix_missing_locations(module)
        return module

    def generate_enums_module(self, module: ast.Module) -> ast.Module:
        enums = [
            node
            for node in module.body
            if isinstance(node, ast.ClassDef)
            and [ast.unparse(base) for base in node.bases] == ["str", "Enum"]
        ]
        if not enums:
            return module
        for enum in enums:
            enum.bases = [ast.Name(id=OPEN_ENUM_BASE, ctx=ast.Load())]
        module.body.insert(module.body.index(enums[0]), *ast.parse(_OPEN_ENUM_SOURCE).body)
        return module


def _hide_from_repr(field_implementation: ast.AnnAssign, field_name: str) -> None:
    """Add ``repr=False`` to a generated field, keeping its alias and default."""
    value = field_implementation.value
    repr_false = ast.keyword(arg="repr", value=ast.Constant(value=False))
    if value is None:
        field_implementation.value = ast.Call(
            func=ast.Name(id="Field", ctx=ast.Load()), args=[], keywords=[repr_false]
        )
    elif isinstance(value, ast.Call) and _is_name(value.func, "Field"):
        value.keywords.append(repr_false)
    elif isinstance(value, ast.Constant):
        default = ast.keyword(arg="default", value=value)
        field_implementation.value = ast.Call(
            func=ast.Name(id="Field", ctx=ast.Load()), args=[], keywords=[default, repr_false]
        )
    else:
        raise CodegenPluginError(
            f"unexpected value for secret field {field_name}: {ast.unparse(value)}"
        )
    field_implementation.simple = 1


_AUTH_BASIC = "Auth: Basic, the application's API key (FluzClient sends it for this operation)."
_AUTH_BEARER = (
    "Auth: Bearer, a user access token (FluzClient mints it for the configured user and "
    "renews it before it expires)."
)
_RAISES = """Raises (through fluz.FluzClient; the bare generated client raises its own errors):
    ValidationError: the input breaks a rule the client knows (nothing was sent; ``field``
        and ``rule`` say which), or Fluz refused it (AR-0001).
    AuthenticationError: the API key or the user token was refused.
    PermissionDeniedError: the token lacks a scope this operation needs.
    NotFoundError, ConflictError: Fluz's codes for a missing or conflicting object.
    RateLimitedError, ServerError, TransportError, FluzTimeoutError: still failing after
        the client's retries (``retry_after``, ``request_sent`` say more).
    ResponseDecodeError: the response does not fit the schema, e.g. a null where the
        client requires a value (``ids`` lists the ids the response did carry).
    FluzError: any other failure Fluz reports (``code`` says which)."""
_MUTATION_NOTE = (
    "A mutation: after an unclear failure (timeout, 5xx, a decode error) retry with the same "
    "idempotency key (``fluz.response_info(result).idempotency_key``, or the error's "
    "``idempotency_key``); Fluz processes a key once."
)


def _description_parts(description: str | None) -> tuple[list[str], list[str]]:
    """(summary lines, ``Scopes:``/``Docs:`` lines) of a schema description."""
    summary: list[str] = []
    facts: list[str] = []
    for line in (description or "").strip().splitlines():
        (facts if line.startswith(("Scopes:", "Docs:")) else summary).append(line)
    while summary and not summary[-1].strip():
        summary.pop()
    return summary, facts


def method_docstring(
    method_def: ast.FunctionDef | ast.AsyncFunctionDef,
    operation: OperationDefinitionNode,
    root_name: str,
    field: GraphQLField,
) -> str:
    """The docstring of a generated operation method: what it does (the schema's
    description of the root field), auth, scopes, doc page, arguments, result, errors."""
    from fluz import _constants  # codegen time only; the generated package imports nothing

    summary, facts = _description_parts(field.description)
    kind = operation.operation.value
    lines = summary or [f"The ``{root_name}`` {kind}."]
    lines += [
        "",
        f"GraphQL: ``{kind} {operation.name.value if operation.name else ''}`` (``{root_name}``).",
    ]
    lines.append(_AUTH_BASIC if root_name in _constants.BASIC_AUTH_FIELDS else _AUTH_BEARER)
    lines += facts
    arguments = [
        arg for arg in method_def.args.args[1:] if arg.arg not in ("self",)
    ] + method_def.args.kwonlyargs
    if arguments:
        lines += ["", "Args:"]
        for arg in arguments:
            annotation = ast.unparse(arg.annotation) if arg.annotation else "Any"
            annotation = annotation.replace("'", "").replace('"', "")
            annotation = annotation.replace("Union[", "").replace(", UnsetType]", "")
            lines.append(f"    {arg.arg}: {annotation}.")
    returned = ast.unparse(method_def.returns).replace('"', "") if method_def.returns else "None"
    lines += [
        "",
        "Returns:",
        f"    {returned} (GraphQL ``{field.type}``; never None: the"
        " operation's result is required, see queries/).",
    ]
    if operation.operation is OperationType.MUTATION:
        lines += ["", _MUTATION_NOTE]
    lines += ["", *_RAISES.splitlines()]
    return "\n".join(lines)


def input_class_docstring(class_def: ast.ClassDef, input_type: GraphQLInputObjectType) -> str:
    """The docstring of a generated input model: the type's description and, per field,
    its GraphQL name, whether it is required, its rules and its description."""
    summary, facts = _description_parts(input_type.description)
    lines = summary or [f"The GraphQL input ``{input_type.name}``."]
    lines += facts
    lines += [
        "",
        "Build it with the snake_case names below (the camelCase GraphQL names work too). Bad",
        "values raise fluz.ValidationError (``field``, ``rule``) when fluz is imported.",
        "",
        "Attributes:",
    ]
    for node in class_def.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        python_name = node.target.id
        graphql_name = _graphql_name(node) or python_name
        input_field = input_type.fields.get(graphql_name)
        if input_field is None:
            continue
        notes = [f"``{graphql_name}: {input_field.type}``"]
        annotation = ast.unparse(node.annotation)
        if graphql_name == IDEMPOTENCY_KEY_FIELD:
            notes.append("optional: FluzClient fills in a UUID4 and reuses it on retries")
        elif str(input_field.type).endswith("!"):
            notes.append("required")
        if MONEY_INPUT in annotation:
            notes.append(
                "dollars as Decimal, int or decimal string, at most 2 decimal places "
                "(a float only if it has at most 2 in its shortest form)"
            )
        elif DECIMAL_INPUT in annotation:
            notes.append("an exact decimal: Decimal, int or decimal string")
        if input_field.default_value is not None and input_field.default_value is not Undefined:
            notes.append(f"default {input_field.default_value!r}")
        text = "; ".join(notes) + "."
        if input_field.description:
            text += " " + " ".join(input_field.description.split())
        lines.append(f"    {python_name}: {text}")
    return "\n".join(lines)


def _graphql_name(node: ast.AnnAssign) -> str | None:
    value = node.value
    if isinstance(value, ast.Call) and _is_name(value.func, "Field"):
        for keyword in value.keywords:
            if keyword.arg in ("alias", "validation_alias") and isinstance(
                keyword.value, ast.Constant
            ):
                return str(keyword.value.value)
    return None


def _set_docstring(
    node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef, text: str, *, indent: int
) -> None:
    """Make *text* the docstring of *node* (replacing any), indented for its position."""
    text = _reflow(text, 92 - indent)
    pad = " " * indent
    body = "\n".join(pad + line if line.strip() else "" for line in text.splitlines()[1:])
    doc = text.splitlines()[0] + ("\n" + body + "\n" + pad if body else "")
    docstring = ast.Expr(value=ast.Constant(value=doc))
    first = node.body[0] if node.body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        node.body[0] = docstring
    else:
        node.body.insert(0, docstring)
    ast.fix_missing_locations(node)


_LAZY_IMPORT_THEN_DOCSTRING = re.compile(
    r"(?P<imports>(?:\n(?P<pad> +)from \.[\w.]+ import (?:\([^)]*\)|[^\n]+))+\n)\n(?P=pad)"
    r'(?P<doc>"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\')\n'
)


def _docstring_first(match: re.Match[str]) -> str:
    pad = match["pad"]
    text = ast.literal_eval(match["doc"])
    if '"""' in text or "\\" in text:
        raise CodegenPluginError("a generated docstring contains triple quotes or a backslash")
    return f'\n{pad}"""{text}"""\n{match["imports"]}\n'


def _import_asyncio_in_subscriptions(code: str) -> str:
    """Move async_base_client.py's ``import asyncio`` into the one method that uses it."""
    # Both uses (asyncio.wait_for, asyncio.TimeoutError) are in execute_ws, the one method
    # with `async with ws_connect(`.
    if code.count("asyncio.") != 2 or code.count(_WS_CONNECT) != 1:
        raise CodegenPluginError("async_base_client.py no longer uses asyncio as expected")
    code = code.replace(_ASYNCIO_IMPORT, "", 1)
    local = "        import asyncio  # here, not at the top: only subscriptions need it\n\n"
    return code.replace(_WS_CONNECT, local + _WS_CONNECT, 1)


def _look_up_model_class(code: str) -> str:
    """async_base_client.py without pydantic's BaseModel imported: its model check finds
    the class in ``sys.modules``."""
    if (
        code.count("PydanticBaseModel") != 2
        or _MODEL_IMPORT not in code
        or _MODEL_CHECK not in code
        or _JSON_IMPORT not in code
        or "import sys\n" in code
    ):
        raise CodegenPluginError("async_base_client.py no longer checks for models as expected")
    code = code.replace(_MODEL_IMPORT, "", 1).replace(_MODEL_CHECK, _LOOKED_UP_MODEL_CHECK, 1)
    return code.replace(_JSON_IMPORT, _JSON_IMPORT + "import sys\n", 1)


def _lazy_base_model(code: str, base_classes: Path) -> str:
    """ariadne-codegen's base_model.py without its pydantic class: BaseModel (and the
    InputModel derived from it) come from base_classes.py on first use.

    Raises:
        CodegenPluginError: the module no longer has the shape rewritten here, or its
            BaseModel configuration has a line that base_classes.py lacks (a changed
            ``[tool.ariadne-codegen]`` option would otherwise be lost silently).
    """
    match = _BASE_MODEL_CLASS.search(code)
    if match is None or _IMPORTS_BEFORE not in code:
        raise CodegenPluginError("base_model.py no longer has the shape the plugin rewrites")
    kept = base_classes.read_text(encoding="utf-8").splitlines()
    missing = [line.strip(" ,") for line in match["config"].splitlines() if line not in kept]
    if missing:
        raise CodegenPluginError(
            f"ariadne-codegen's BaseModel config has {', '.join(missing)}, which "
            f"{base_classes} lacks: add it there"
        )
    code = code[: match.start()] + code[match.end() :]
    code = code.replace(_IMPORTS_BEFORE, _IMPORTS_AFTER, 1)
    return code.rstrip("\n") + "\n" + _LAZY_BASE_SOURCE


def _name_fragment_classes(module: ast.Module, aliases: dict[str, str]) -> set[str]:
    """Rewrite the return annotations of the client's methods from operation aliases
    (``"PurchaseGiftCardPurchaseGiftCard"``) to the fragment classes they are
    (``"GiftCardPurchase"``); return the fragment names now used."""
    used: set[str] = set()
    for node in ast.walk(module):
        if not isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) or node.returns is None:
            continue
        for part in ast.walk(node.returns):
            if isinstance(part, ast.Name):
                bare = part.id.strip("'\"")
                if bare in aliases:
                    part.id = part.id.replace(bare, aliases[bare])
                    used.add(aliases[bare])
            elif isinstance(part, ast.Constant) and isinstance(part.value, str):
                if part.value in aliases:
                    used.add(aliases[part.value])
                    part.value = aliases[part.value]
    return used


_LABELS = ("GraphQL:", "Auth:", "Scopes:", "Docs:", "A mutation", "Build it", "Raises")


def _reflow(text: str, width: int) -> str:
    """Re-wrap *text* at *width*: unindented lines form paragraphs (a line starting with a
    label such as ``Auth:`` starts its own), an indented line is a list item whose deeper
    indented lines continue it (continuations wrap 4 deeper); section headers (``Args:``)
    stay alone."""
    paragraphs: list[tuple[int, list[str]]] = []
    for line in text.splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        last = paragraphs[-1] if paragraphs else None
        joins = (
            last is not None
            and last[1]
            and not last[1][0].endswith(":")
            and stripped
            and (
                (indent > last[0] > 0)
                or (indent == last[0] == 0 and not stripped.startswith(_LABELS))
            )
        )
        if joins:
            assert last is not None
            last[1].append(stripped)
        else:
            paragraphs.append((indent, [stripped] if stripped else []))
    lines: list[str] = []
    for indent, words in paragraphs:
        if not words:
            lines.append("")
            continue
        lines.append(
            textwrap.fill(
                " ".join(words),
                width=width,
                initial_indent=" " * indent,
                subsequent_indent=" " * (indent + 4 if indent else 0),
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines)


class _DropDirective(Visitor):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def enter_field(self, node: FieldNode, *_args: Any) -> FieldNode:
        directives = tuple(d for d in node.directives or () if d.name.value != self.name)
        if len(directives) == len(node.directives or ()):
            return node
        copied = deepcopy(node)
        copied.directives = directives
        return copied


def _alias_trivial_subclasses(module: ast.Module) -> None:
    """``class UserPurchaseFieldsGiftCard(GiftCardFields): pass`` -> an alias, at the end.

    A nested selection that only spreads a fragment is that fragment: as an alias, an
    operation that selects the same field again (``giftCard @required { ...GiftCardFields }``)
    narrows ``Optional[GiftCardFields]`` to ``GiftCardFields``, which type checkers accept
    as an override, and ``fluz.types.GiftCard`` is the one class users see everywhere.
    ariadne-codegen does the same in operation modules, not in the fragments module.
    """
    aliases: list[ast.stmt] = []
    kept: list[ast.stmt] = []
    for node in module.body:
        if (
            isinstance(node, ast.ClassDef)
            and len(node.bases) == 1
            and isinstance(node.bases[0], ast.Name)
            and not node.keywords
            and all(isinstance(stmt, ast.Pass) for stmt in node.body)
        ):
            aliases.append(
                ast.Assign(
                    targets=[ast.Name(id=node.name, ctx=ast.Store())],
                    value=ast.Name(id=node.bases[0].id, ctx=ast.Load()),
                    lineno=0,
                )
            )
        else:
            kept.append(node)
    module.body = kept + aliases
    ast.fix_missing_locations(module)


def _replace_name(annotation: ast.expr, old: str, new: str) -> None:
    """Rename every ``ast.Name`` *old* inside *annotation* (in place)."""
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name) and node.id == old:
            node.id = new


def _required(annotation: ast.expr) -> ast.expr:
    """``Optional[X]`` -> ``X``; ``Optional[list[Optional[X]]]`` -> ``list[X]`` (nested
    lists too): a field declared ``@required`` and every item of it are non-null."""
    if isinstance(annotation, ast.Subscript) and _is_name(annotation.value, "Optional"):
        annotation = annotation.slice
    if isinstance(annotation, ast.Subscript) and _is_name(annotation.value, "list"):
        annotation.slice = _required(annotation.slice)
    return annotation


def _alias_for_validation_and_serialization(field_implementation: ast.AnnAssign) -> None:
    """``Field(alias="merchantSlug")`` -> ``Field(validation_alias=..., serialization_alias=...)``.

    Why: type checkers build an input model's ``__init__`` from ``alias`` (PEP 681), so
    mypy accepted only ``PurchaseGiftCardInput(merchantSlug=...)``. Without ``alias`` the
    keyword is the field name (``merchant_slug=``); at run time ``populate_by_name``
    still accepts the camelCase alias, and ``model_dump(by_alias=True)`` still sends it.
    """
    value = field_implementation.value
    if not (isinstance(value, ast.Call) and _is_name(value.func, "Field")):
        return
    keywords = []
    for keyword in value.keywords:
        if keyword.arg == "alias":
            keywords.append(ast.keyword(arg="validation_alias", value=keyword.value))
            keywords.append(ast.keyword(arg="serialization_alias", value=keyword.value))
        else:
            keywords.append(keyword)
    value.keywords = keywords


def _import_if_used(module: ast.Module, from_: str, name: str, level: int = 0) -> None:
    """Add ``from <from_> import <name>`` to *module* if the name is used and not imported."""
    module_name = from_.lstrip(".")
    used = any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(module))
    if not used:
        return
    for node in module.body:
        if isinstance(node, ast.ImportFrom) and node.module == module_name:
            if all(alias.name != name for alias in node.names):
                node.names.append(ast.alias(name=name))
                node.names.sort(key=lambda alias: alias.name)
            return
    position = next(
        (i for i, node in enumerate(module.body) if isinstance(node, ast.ImportFrom | ast.Import)),
        0,
    )
    module.body.insert(
        position, ast.ImportFrom(module=module_name, names=[ast.alias(name)], level=level)
    )


def _annotate_lazy_hook(hook: ast.FunctionDef) -> None:
    if hook.name == "__getattr__":
        hook.args.args[0].annotation = ast.Name(id="str", ctx=ast.Load())
        hook.returns = ast.Name(id="object", ctx=ast.Load())
    else:
        hook.returns = ast.Subscript(
            value=ast.Name(id="list", ctx=ast.Load()),
            slice=ast.Name(id="str", ctx=ast.Load()),
            ctx=ast.Load(),
        )


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _is_optional(annotation: Any) -> bool:
    return isinstance(annotation, ast.Subscript) and _is_name(annotation.value, "Optional")
