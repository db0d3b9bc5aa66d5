"""Small helpers of the fleet tests."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any


def make_jwt(lifetime: float = 300.0, **claims: Any) -> str:
    """An unsigned-looking JWT with iat/exp (the client never checks signatures)."""

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    payload = {"iat": now, "exp": now + lifetime, "jti": uuid.uuid4().hex, **claims}
    return f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(payload)}.signature"
