"""Recipients, authorized users, user registration and approval requests.

addAuthorizedUser, removeAuthorizedUser, registerUser and the request* mutations report
failures in their payload (``{success: false, error {code message}}``), as the docs show;
the schema layer turns a SandboxError raised here into that payload.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from .._core import RequestContext
from .._errors import (
    PHONE_IN_USE,
    RECIPIENT_AMBIGUOUS,
    RECIPIENT_NOT_FOUND,
    SandboxError,
    invalid,
)
from .._state import Account, ApprovalRequest, AuthorizedUser, User, UserCashBalance
from ._common import cash_balance, exactly_one, money, operation, text
from ._common import email as valid_email
from ._common import phone as valid_phone
from .virtual_cards import virtual_card_offer
from .wallet import transfer_destination

NOT_FOUND_MESSAGE = "No recipient found with the provided information."  # docs, RC-0001
ROLES = frozenset({"ADMIN", "MANAGER", "SPENDER", "VIEWER"})  # OWNER cannot be granted


def _account_of(ctx: RequestContext, user: User) -> Account:
    return next(a for a in ctx.state.accounts.values() if a.user.user_id == user.user_id)


@operation("lookupUser")
def lookup_user(ctx: RequestContext, *, input: dict[str, Any]) -> dict[str, Any]:
    """Exactly one of phoneNumber (E.164) / email. RC-0001 none, RC-0002 several.
    ``recipientId`` is the recipient's account id (usable as a transfer destination)."""
    which = exactly_one(phone_number=input.get("phone_number"), email=input.get("email"))
    if which == "phone_number":
        wanted = valid_phone(input["phone_number"])
        matches = [u for u in ctx.state.users.values() if u.phone == wanted]
    else:
        wanted = valid_email(input["email"])
        matches = [u for u in ctx.state.users.values() if u.email.lower() == wanted]
    if not matches:
        raise SandboxError(RECIPIENT_NOT_FOUND, NOT_FOUND_MESSAGE)
    if len(matches) > 1:
        raise SandboxError(
            RECIPIENT_AMBIGUOUS, "More than one recipient matches; use a more specific identifier."
        )
    person = matches[0]
    return {
        "recipient_id": _account_of(ctx, person).account_id,
        "display_name": f"{person.first_name} {person.last_name[:1]}.",
    }


@operation("lookupBusiness")
def lookup_business(ctx: RequestContext, *, input: dict[str, Any]) -> list[dict[str, Any]]:
    """Docs: exact, case-insensitive match on the registered or DBA name; RC-0001 if none."""
    wanted = text(input["company_name"], "companyName", 1, 200).lower()
    found = []
    for account in ctx.state.accounts.values():
        business = account.business
        if business and wanted in {
            business.business_name.lower(),
            (business.dba_name or "").lower(),
        }:
            found.append(
                {
                    "recipient_id": account.account_id,
                    "display_name": business.dba_name or business.business_name,
                    "company_name": business.business_name,
                }
            )
    if not found:
        raise SandboxError(RECIPIENT_NOT_FOUND, NOT_FOUND_MESSAGE)
    return found


# -- authorized users -------------------------------------------------------------------------


def _visible(user: AuthorizedUser) -> bool:
    return "OWNER" not in user.roles and user.status != "INACTIVE"


@operation("authorizedUsers")
def authorized_users(
    ctx: RequestContext, *, email: str | None = None, phone: str | None = None
) -> list[AuthorizedUser]:
    """Docs: the OWNER is never listed; removed (INACTIVE) users are not listed either."""
    return [
        user
        for user in ctx.account.authorized_users
        if _visible(user)
        and (email is None or (user.email or "").lower() == email.lower())
        and (phone is None or user.phone == phone)
    ]


@operation("addAuthorizedUser")
def add_authorized_user(
    ctx: RequestContext,
    *,
    roles: list[str],
    email: str | None = None,
    phone: str | None = None,
    status: str | None = None,
    send_invite: bool | None = None,
) -> dict[str, Any]:
    if not email and not phone:
        raise invalid("Provide email or phone (or both)")
    if not roles or not set(roles) <= ROLES:
        raise invalid("roles must be one or more of ADMIN, MANAGER, SPENDER, VIEWER (not OWNER)")
    status = status or "PENDING"
    if status not in ("PENDING", "ACTIVE"):
        raise invalid("status must be PENDING or ACTIVE for a new authorized user")
    address = valid_email(email) if email else None
    number = valid_phone(phone) if phone else None
    account = ctx.account
    for user in account.authorized_users:
        same = (address and (user.email or "").lower() == address) or (
            number and user.phone == number
        )
        if same and user.status != "INACTIVE":
            raise invalid("This person is already an authorized user of the account")
    user = AuthorizedUser(ctx.state.new_id(), list(dict.fromkeys(roles)), status, address, number)
    account.authorized_users.append(user)
    invited = status == "PENDING" and send_invite is not False
    return {
        "success": True,
        "auth_user_id": user.auth_user_id,
        "roles": user.roles,
        "status": user.status,
        "pending_action_id": ctx.state.new_id() if invited else None,
        "error": None,
    }


@operation("removeAuthorizedUser")
def remove_authorized_user(ctx: RequestContext, *, auth_user_id: str) -> dict[str, Any]:
    user = next((u for u in ctx.account.authorized_users if u.auth_user_id == auth_user_id), None)
    if user is None or not _visible(user):
        raise invalid(f"authUserId {auth_user_id} is not an authorized user of the account")
    user.status = "INACTIVE"
    return {
        "success": True,
        "auth_user_id": user.auth_user_id,
        "status": user.status,
        "error": None,
    }


@operation("registerUser")
def register_user(
    ctx: RequestContext,
    *,
    first_name: str,
    last_name: str,
    phone_number: str,
    region_code: str,
    email_address: str,
    date_of_birth: str,
) -> dict[str, Any]:
    """Creates a user with a consumer account. AUTH-0026 if the phone number is taken."""
    first, last = text(first_name, "firstName"), text(last_name, "lastName")
    number, address = valid_phone(phone_number), valid_email(email_address)
    if not (
        len(region_code) == 2
        and region_code.isascii()
        and region_code.isalpha()
        and region_code.isupper()
    ):
        raise invalid("regionCode must be an ISO 3166-1 alpha-2 code, e.g. US")
    try:
        born = date.fromisoformat(date_of_birth)
    except ValueError:
        raise invalid("dateOfBirth must be a date in YYYY-MM-DD format") from None
    if born >= ctx.sandbox.clock.datetime().date():
        raise invalid("dateOfBirth must be in the past")
    state = ctx.state
    if any(u.phone == number for u in state.users.values()):
        raise SandboxError(PHONE_IN_USE, "The phone number you chose is already in use.")
    user = User(state.new_id(), first, last, address, number)
    state.users[user.user_id] = user
    account = Account(
        account_id=state.new_id(),
        type="CONSUMER",
        account_name=f"{first} {last}",
        user=user,
        seats=[],
        referral_code=state.new_hex(8).upper(),
    )
    account.cash_balances.append(
        UserCashBalance(state.new_id(), "Main", ctx.sandbox.clock.datetime(), is_default=True)
    )
    state.accounts[account.account_id] = account
    return {"success": True, "error": None}


# -- approvals --------------------------------------------------------------------------------


def _submit(ctx: RequestContext, approval_type: str, code: int) -> dict[str, Any]:
    approval = ApprovalRequest(
        approval_id=ctx.state.new_id(),
        approval_type=approval_type,
        approval_code=code,
        message_id=ctx.state.new_id(),
        created_at=ctx.sandbox.clock.datetime(),
    )
    ctx.account.approvals.append(approval)
    ctx.sandbox.webhooks.approval("APPROVAL_CREATE", ctx.account, approval)
    # Docs: the request returns a messageId, not the approvalId (that comes via
    # approvalRequests or the APPROVAL_CREATE webhook).
    return {"success": True, "message_id": approval.message_id, "error": None}


def _two_spend_accounts(ctx: RequestContext, data: dict[str, Any]) -> None:
    money(data["amount"])
    source = cash_balance(ctx.account, data["source_user_cash_balance_id"])
    if source is cash_balance(ctx.account, data["destination_user_cash_balance_id"]):
        raise invalid("source and destination spend accounts must differ")


@operation("requestVirtualCard")
def request_virtual_card(ctx: RequestContext, *, input: dict[str, Any]) -> dict[str, Any]:
    if input["seat_id"] not in {seat.seat_id for seat in ctx.account.seats}:
        raise invalid(f"seatId {input['seat_id']} is not a seat of the account")
    virtual_card_offer(ctx, input["offer_id"])
    purchase = money(input["purchase_amount"], "purchaseAmount")
    fluzpay = Decimal(str(input["fluzpay_amount"]))
    if not Decimal(0) <= fluzpay <= purchase:
        raise invalid("fluzpayAmount must be between 0 and purchaseAmount")
    return _submit(ctx, "VIRTUAL_CARD_CREATION", 600003)


@operation("requestReimbursement")
def request_reimbursement(ctx: RequestContext, *, input: dict[str, Any]) -> dict[str, Any]:
    _two_spend_accounts(ctx, input)
    return _submit(ctx, "PAYOUT", 500401)


@operation("requestInternalTransfer")
def request_internal_transfer(ctx: RequestContext, *, input: dict[str, Any]) -> dict[str, Any]:
    _two_spend_accounts(ctx, input)
    return _submit(ctx, "PAYOUT", 500402)


@operation("requestAccountTransfer")
def request_account_transfer(ctx: RequestContext, *, input: dict[str, Any]) -> dict[str, Any]:
    money(input["amount"])
    destination = input.get("destination") or {}
    if not destination.get("account_id") and not destination.get("user_cash_balance_id"):
        raise invalid("destination.accountId or destination.userCashBalanceId is required")
    transfer_destination(ctx, destination)
    return _submit(ctx, "PAYOUT", 500402)


@operation("approvalRequests")
def approval_requests(ctx: RequestContext) -> list[ApprovalRequest]:
    return [a for a in ctx.account.approvals if a.status == "PENDING"]


def _decide(ctx: RequestContext, approval_id: str, status: str, action: str) -> dict[str, Any]:
    """Records the decision; the sandbox does not carry out the approved action."""
    approval = next((a for a in ctx.account.approvals if a.approval_id == approval_id), None)
    if approval is None:
        raise invalid(f"approvalId {approval_id} was not found")
    if approval.status != "PENDING":
        raise invalid(f"approval {approval_id} was already {approval.status.lower()}")
    approval.status = status
    ctx.sandbox.webhooks.approval(f"APPROVAL_{action}", ctx.account, approval)
    return {"success": True, "approval_id": approval_id, "action": action}


@operation("approveApprovalRequest")
def approve_approval_request(ctx: RequestContext, *, approval_id: str) -> dict[str, Any]:
    return _decide(ctx, approval_id, "APPROVED", "APPROVE")


@operation("declineApprovalRequest")
def decline_approval_request(ctx: RequestContext, *, approval_id: str) -> dict[str, Any]:
    return _decide(ctx, approval_id, "DECLINED", "DECLINE")
