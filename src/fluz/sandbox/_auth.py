"""Who may call what: the docs' auth mode and scope per operation, and the user tokens.

- ``Authorization: Basic <api key>`` (the API key is base64("app_id:app_secret")) for the
  app operations; ``Bearer <user token>`` for user operations; either for the four
  operations the docs say accept both (Basic then acts as the app's operator account).
- Missing credentials, a wrong API key or the wrong mode for an operation: HTTP 401.
- A user token that is malformed, wrongly signed or expired: AUTH-0008 (HTTP 200).
- A valid token without a scope the operation needs: AUTH-0008 naming the scope in the
  message and in ``extensions.missingScopes``.
"""

from __future__ import annotations

import hmac
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from ._config import TOKEN_SUBJECT
from ._errors import INVALID_CREDENTIALS, INVALID_USER_ACCESS, SandboxError

# The ScopeType enum of the schema (a test keeps the two in step).
ALL_SCOPES = (
    "LIST_PAYMENT",
    "LIST_PURCHASES",
    "LIST_OFFERS",
    "MAKE_DEPOSIT",
    "MAKE_WITHDRAW",
    "PURCHASE_GIFTCARD",
    "REVEAL_GIFTCARD",
    "MANAGE_PAYMENT",
    "CREATE_VIRTUALCARD",
    "REVEAL_VIRTUALCARD",
    "EDIT_VIRTUALCARD",
    "PCI_COMPLIANCE",
    "MANAGE_SUBUSERS",
    "VIEW_SUBUSERS",
    "QUERY_RECIPIENT",
    "VERIFY_KYC",
    "MAKE_PAYOUT_SEND",
    "MAKE_PAYOUT_RECEIVE",
    "MAKE_PAYOUT_TRANSFER_SEND",
    "MAKE_PAYOUT_TRANSFER_RECEIVE",
    "REQUEST_VIRTUAL_CARD",
    "REQUEST_REIMBURSEMENT",
    "REQUEST_ACCOUNT_TRANSFER",
    "REQUEST_INTERNAL_TRANSFER",
    "LIST_APPROVALS",
    "MANAGE_APPROVALS",
)
# PCI_COMPLIANCE is Fluz-gated: the sandbox app is not granted it, so asking for it at
# generateUserAccessToken shows the "scope not granted to the app" failure.
GRANTED_SCOPES = frozenset(ALL_SCOPES) - {"PCI_COMPLIANCE"}

BASIC_ONLY = frozenset(
    {
        "generateUserAccessToken",
        "refreshUserAccessToken",
        "getAccountsByUserId",
        "getApplicationScopes",
        "getApplicationUsers",
    }
)
BASIC_OR_BEARER = frozenset(
    {"addAuthorizedUser", "authorizedUsers", "removeAuthorizedUser", "createTransfer"}
)
PUBLIC = frozenset({"marco", "__schema", "__type", "__typename"})

# Every root field of the schema has an entry (the schema refuses to build otherwise, and a
# test checks it), so a new operation cannot slip in unchecked. Scopes per facts.md §2; the
# operations the docs leave without a scope are sandbox DECISIONS, marked below. An empty
# tuple is only for operations that take no user token (Basic-only, public).
REQUIRED_SCOPES: dict[str, tuple[str, ...]] = {
    **{name: () for name in BASIC_ONLY | PUBLIC},
    "getMerchants": ("LIST_OFFERS",),
    "getOfferQuote": ("LIST_OFFERS",),
    "getGiftCards": ("LIST_PURCHASES",),
    "getUserPurchases": ("LIST_PURCHASES",),
    "getTransactions": ("LIST_PAYMENT", "LIST_PURCHASES"),
    "getWallet": ("LIST_PAYMENT",),
    "getUserCashBalances": ("LIST_PAYMENT",),
    "getUserCashBalanceById": ("LIST_PAYMENT",),
    "getBINs": ("CREATE_VIRTUALCARD",),
    "getVirtualCardOffers": ("CREATE_VIRTUALCARD",),
    "lookupUser": ("QUERY_RECIPIENT",),
    "lookupBusiness": ("QUERY_RECIPIENT",),
    "authorizedUsers": ("VIEW_SUBUSERS",),
    "approvalRequests": ("LIST_APPROVALS",),
    "purchaseGiftCard": ("PURCHASE_GIFTCARD",),
    "revealGiftCardByGiftCardId": ("REVEAL_GIFTCARD",),
    "addBankCard": ("MANAGE_PAYMENT",),
    "updateBankCardNickname": ("MANAGE_PAYMENT",),
    "updateBankCardPreferredMerchantCategoryCode": ("MANAGE_PAYMENT",),
    "deleteBankCard": ("MANAGE_PAYMENT",),
    "depositCashBalance": ("MAKE_DEPOSIT",),
    "withdrawCashBalance": ("MAKE_WITHDRAW",),
    "createTransfer": ("MAKE_PAYOUT_TRANSFER_SEND",),
    "createUserCashBalance": ("MANAGE_PAYMENT",),
    "updateUserCashBalance": ("MANAGE_PAYMENT",),
    "closeUserCashBalance": ("MANAGE_PAYMENT",),
    "createVirtualCard": ("CREATE_VIRTUALCARD",),
    "createVirtualCardBulkOrder": ("CREATE_VIRTUALCARD",),
    "addVirtualCardAddress": ("CREATE_VIRTUALCARD",),
    "editVirtualCard": ("EDIT_VIRTUALCARD",),
    "lockVirtualCard": ("EDIT_VIRTUALCARD",),
    "unlockVirtualCard": ("EDIT_VIRTUALCARD",),
    "revealVirtualCardByVirtualCardId": ("REVEAL_VIRTUALCARD",),
    "addAuthorizedUser": ("MANAGE_SUBUSERS",),
    "removeAuthorizedUser": ("MANAGE_SUBUSERS",),
    "requestVirtualCard": ("REQUEST_VIRTUAL_CARD",),
    "requestReimbursement": ("REQUEST_REIMBURSEMENT",),
    "requestInternalTransfer": ("REQUEST_INTERNAL_TRANSFER",),
    "requestAccountTransfer": ("REQUEST_ACCOUNT_TRANSFER",),
    "approveApprovalRequest": ("MANAGE_APPROVALS",),
    "declineApprovalRequest": ("MANAGE_APPROVALS",),
    # -- the docs name no scope for these; sandbox DECISIONS (closest documented scope) --
    # A referral link points into the merchant catalog, which LIST_OFFERS reads.
    "getReferralUrl": ("LIST_OFFERS",),
    # The saved addresses are the virtual cards' billing addresses (addVirtualCardAddress
    # and createVirtualCard need CREATE_VIRTUALCARD).
    "getUserAddresses": ("CREATE_VIRTUALCARD",),
    # The MCC list only serves GIFT_CARD_BALANCE deposits (depositCashBalance: MAKE_DEPOSIT).
    "getMccList": ("MAKE_DEPOSIT",),
    # The status of an order createVirtualCardBulkOrder (CREATE_VIRTUALCARD) placed.
    "getVirtualCardBulkOrderStatus": ("CREATE_VIRTUALCARD",),
    # Moves money: a withdrawal from one spend account and a deposit into another (its
    # payload is {cashBalanceDeposit withdraw}), so it needs both money-movement scopes.
    "transferInternalBalance": ("MAKE_DEPOSIT", "MAKE_WITHDRAW"),
    # Docs: "restricted (special permission)" without a scope. The sandbox app is treated as
    # holding the permission (so users can test registration) and the token must carry
    # MANAGE_SUBUSERS, the scope for creating people on an account.
    "registerUser": ("MANAGE_SUBUSERS",),
    # Annotates transactions, which getTransactions shows under LIST_PAYMENT + LIST_PURCHASES.
    "updateTransactionMetadata": ("LIST_PAYMENT", "LIST_PURCHASES"),
    **{
        name: ("MANAGE_PAYMENT",)
        for name in (
            "getPlaidBankAccounts",
            "getPlaidBankBalances",
            "getPlaidBankAccountBalance",
            "getPlaidBankAccountSpendPower",
            "getPlaidBankTransactions",
            "createPlaidLinkToken",
            "completePlaidLink",
            "createPlaidLinkAddress",
            "refreshPlaidBankAccountBalance",
            "refreshPlaidBankConnections",
        )
    },
}

Mode = Literal["none", "basic", "bearer"]


def allowed_modes(root_field: str) -> frozenset[Mode]:
    if root_field in PUBLIC:
        return frozenset({"none", "basic", "bearer"})
    if root_field in BASIC_ONLY:
        return frozenset({"basic"})
    if root_field in BASIC_OR_BEARER:
        return frozenset({"basic", "bearer"})
    return frozenset({"bearer"})


@dataclass(frozen=True)
class Principal:
    """The caller of one request, as its credentials establish it."""

    mode: Mode
    app_id: str | None = None
    user_id: str | None = None
    account_id: str | None = None
    seat_id: str | None = None
    scopes: frozenset[str] = frozenset()


ANONYMOUS = Principal("none")


class AuthFailure(Exception):
    """Raised before execution; ``status`` is 401 (credentials) or 200 (bad user token)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def split_authorization(header: str | None) -> tuple[Mode, str]:
    """("basic", key) / ("bearer", token) / ("none", ""); AuthFailure(401) if unusable."""
    if header is None or not header.strip():
        return "none", ""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "basic" and value:
        return "basic", value
    if scheme.lower() == "bearer" and value:
        return "bearer", value
    raise AuthFailure(
        401,
        INVALID_CREDENTIALS,
        "Authorization must be 'Basic <api key>' or 'Bearer <user access token>'",
    )


def check_mode(mode: Mode, root_fields: Iterable[str]) -> None:
    """AuthFailure(401) unless every root field accepts credentials of this mode."""
    for name in root_fields:
        modes = allowed_modes(name)
        if mode in modes:
            continue
        if mode == "none":
            message = f"{name} requires an Authorization header"
        elif modes == {"basic"}:
            message = f"{name} requires 'Authorization: Basic <api key>'"
        else:
            message = f"{name} requires 'Authorization: Bearer <user access token>'"
        raise AuthFailure(401, INVALID_CREDENTIALS, message)


def api_key_matches(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode(), expected.encode())


class TokenIssuer:
    """Signs and checks user access tokens: HS256 JWTs with a secret made per server run."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def mint(
        self,
        *,
        app_id: str,
        user_id: str,
        account_id: str,
        seat_id: str | None,
        account_type: str,
        scopes: Iterable[str],
        now: float,
        ttl: float,
    ) -> str:
        issued = int(now)
        claims = {
            # The claims of the docs' sample token, plus jti so two tokens minted in the same
            # second still differ.
            "user_id": user_id,
            "account_id": account_id,
            "scopes": list(scopes),
            "app_id": app_id,
            "seat_id": seat_id,
            "account_type": account_type,
            "iat": issued,
            "exp": math.ceil(now + ttl),  # never shorter than ttl
            "sub": TOKEN_SUBJECT,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str, now: float) -> dict[str, Any]:
        """Claims of a token this server signed; SandboxError(AUTH-0008) otherwise."""
        try:
            # Expiry is checked against the sandbox clock (which tests can advance), so
            # PyJWT's own wall-clock checks of exp and iat are off: an advanced clock
            # mints tokens whose iat lies in the real future.
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "require": ["exp", "iat", "sub"],
                },
            )
        except jwt.PyJWTError:
            raise SandboxError(INVALID_USER_ACCESS, "Invalid user access token") from None
        if claims.get("sub") != TOKEN_SUBJECT:
            raise SandboxError(INVALID_USER_ACCESS, "Invalid user access token")
        if not isinstance(claims["exp"], int | float) or claims["exp"] <= now:
            raise SandboxError(INVALID_USER_ACCESS, "User access token has expired")
        return claims


def require_scopes(principal: Principal, operation: str, needed: tuple[str, ...]) -> None:
    missing = [scope for scope in needed if scope not in principal.scopes]
    if missing:
        raise SandboxError(
            INVALID_USER_ACCESS,
            f"{operation} requires scope {', '.join(missing)}, which this token was not granted",
            missingScopes=missing,
        )
