"""The signature recipe, verified the way a receiver would (stdlib only)."""

import hashlib
import hmac
import time

from shopauto.webhook_signing import sign, signature_header, verify

BODY = b'{"tracking_number": "1Z999", "status": "delivered"}'


def receiver_verifies(body: bytes, header: str, secret: str, tolerance=300) -> bool:
    """What an integrator writes from the README: split t= and v1=, HMAC over "t.body"."""
    parts = dict(item.split("=", 1) for item in header.split(",") if not item.startswith("v1="))
    candidates = [item[3:] for item in header.split(",") if item.startswith("v1=")]
    timestamp = int(parts["t"])
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + BODY, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, c) for c in candidates)


def test_signature_is_verifiable_with_the_documented_recipe():
    header = sign(BODY, "s3cret")
    assert receiver_verifies(BODY, header, "s3cret")
    assert verify(BODY, header, ["s3cret"])


def test_tampered_body_wrong_secret_and_stale_timestamp_are_refused():
    header = sign(BODY, "s3cret")
    assert not verify(BODY + b" ", header, ["s3cret"])
    assert not verify(BODY, header, ["other"])
    old = sign(BODY, "s3cret", timestamp=int(time.time()) - 3600)
    assert not verify(BODY, old, ["s3cret"])
    assert not verify(BODY, None, ["s3cret"])
    assert not verify(BODY, "garbage", ["s3cret"])
    assert not verify(BODY, header, [""])


def test_rotation_signs_with_both_secrets_and_either_verifies():
    header = signature_header(BODY, ["old-secret", "new-secret"])
    assert verify(BODY, header, ["old-secret"])
    assert verify(BODY, header, ["new-secret"])
    assert receiver_verifies(BODY, header, "new-secret")
