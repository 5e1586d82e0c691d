"""HMAC-SHA256 signatures over timestamp + body, for webhooks in both directions.

Header: `ShopAuto-Signature: t=<unix seconds>,v1=<hex>` where
`hex = HMAC_SHA256(secret, f"{t}.{raw body}")`. Receivers recompute it, compare in
constant time and refuse timestamps older than the tolerance (replays). Several `v1=`
entries may be present while a secret is being rotated.
"""

import hashlib
import hmac
import time

HEADER = "ShopAuto-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def sign(body: bytes, secret: str, *, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signature_header(body: bytes, secrets: list[str], *, timestamp: int | None = None) -> str:
    """One header signed with every active secret (rotation: old and new)."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    parts = [f"t={timestamp}"]
    for secret in secrets:
        parts.append(sign(body, secret, timestamp=timestamp).split(",", 1)[1])
    return ",".join(parts)


def verify(body: bytes, header: str | None, secrets: list[str], *,
           tolerance: int = DEFAULT_TOLERANCE_SECONDS, now: float | None = None) -> bool:
    if not header or not any(secrets):
        return False
    items = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for key, value in items if key.strip() == "t"]
    signatures = [value.strip() for key, value in items if key.strip() == "v1"]
    if len(timestamps) != 1 or not signatures or not timestamps[0].isdigit():
        return False
    timestamp = int(timestamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    for secret in filter(None, secrets):
        expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            return True
    return False
