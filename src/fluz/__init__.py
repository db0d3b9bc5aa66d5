"""fluz: async, fully typed client for the Fluz GraphQL API.

```python
from fluz import FluzClient

async with FluzClient(api_key=..., user_id=..., account_id=..., environment="staging") as fluz:
    purchase = await fluz.purchase_gift_card(input=PurchaseGiftCardInput(...))
    details = await fluz.reveal_gift_card(purchase.gift_card.gift_card_id)
```

:class:`FluzClient` exposes every generated operation as a typed method and adds token
management, idempotency keys, retries, typed errors, the reveal poller and pagination.
Input models, enums and result models live in ``fluz_graphql`` (generated). The local
sandbox server is ``fluz.sandbox`` (not imported here).
"""

from fluz_graphql.call_options import CallOptionsDict

from ._auth import TokenInfo
from ._catalog import MerchantCatalog
from ._client import FluzClient
from ._constants import DEFAULT_SCOPES, ENVIRONMENT_URLS
from ._errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    FluzError,
    FluzTimeoutError,
    InsufficientFundsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ResponseDecodeError,
    RevealTimeoutError,
    ServerError,
    TransportError,
    ValidationError,
)
from ._options import CallOptions
from ._poll import PollProgress
from ._response import ResponseInfo, response_info
from ._retry import RetryPolicy
from ._reveal import GiftCardDetails, PurchasedGiftCard

__all__ = [
    "DEFAULT_SCOPES",
    "ENVIRONMENT_URLS",
    "APIError",
    "AuthenticationError",
    "CallOptions",
    "CallOptionsDict",
    "ConfigurationError",
    "ConflictError",
    "FluzClient",
    "FluzError",
    "FluzTimeoutError",
    "GiftCardDetails",
    "InsufficientFundsError",
    "MerchantCatalog",
    "NotFoundError",
    "PermissionDeniedError",
    "PollProgress",
    "PurchasedGiftCard",
    "RateLimitedError",
    "ResponseDecodeError",
    "ResponseInfo",
    "RetryPolicy",
    "RevealTimeoutError",
    "ServerError",
    "TokenInfo",
    "TransportError",
    "ValidationError",
    "response_info",
]
