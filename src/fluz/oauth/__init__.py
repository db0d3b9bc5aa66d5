"""OAuth apps and the embedded widget, server side (``fluz.oauth``; not imported by ``fluz``).

```python
from fluz.oauth import OAuthApp

async with OAuthApp(client_id=..., app_secret=...) as app:
    request = app.authorization_url(redirect_uri=CALLBACK, scopes=["LIST_OFFERS"])
    # send the user to request.url; keep request.state; on the callback:
    code = request.code_from_callback(callback_query)
    tokens = await app.exchange_code(code, redirect_uri=CALLBACK)
```

:class:`OAuthFluzClient` acts for users with their OAuth tokens (renewed through
``/token/refresh``, newest tokens handed to your ``save_tokens``);
:func:`sign_pat_token` signs the widget's pre-approved transaction token.
"""

from ._app import AuthorizationRequest, OAuthApp, parse_callback
from ._client import OAuthFluzClient, SaveTokens
from ._errors import (
    AuthorizationDeniedError,
    InvalidAuthorizationCodeError,
    InvalidClientError,
    OAuthError,
    OAuthStateMismatchError,
    RedirectURIMismatchError,
    RefreshTokenExpiredError,
)
from ._tokens import OAuthTokens
from ._widget import TransactionType, sign_pat_token

__all__ = [
    "AuthorizationDeniedError",
    "AuthorizationRequest",
    "InvalidAuthorizationCodeError",
    "InvalidClientError",
    "OAuthApp",
    "OAuthError",
    "OAuthFluzClient",
    "OAuthStateMismatchError",
    "OAuthTokens",
    "RedirectURIMismatchError",
    "RefreshTokenExpiredError",
    "SaveTokens",
    "TransactionType",
    "parse_callback",
    "sign_pat_token",
]
