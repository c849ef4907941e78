"""OSS-style V1 signatures: result URLs and upload policies.

The emulator signs like OSS (HMAC-SHA1 over a string to sign, standard base64, percent-encoded in
the URL: ``%2B``, ``%2F``, ``%3D`` appear), so a client that re-encodes or decodes the query breaks
here as it would against the real service.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import quote

BUCKET = "dashscope-result-emulator"


class Signer:
    """Signs and checks with one secret, random per server unless given."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        digest = hashlib.sha256(self._secret).hexdigest().upper()
        #: The public half, shown as ``OSSAccessKeyId``.
        self.access_key_id = "LTAI" + digest[:20]

    def _sign(self, string_to_sign: str) -> str:
        mac = hmac.new(self._secret, string_to_sign.encode("utf-8"), hashlib.sha1)
        return base64.b64encode(mac.digest()).decode("ascii")

    def url_signature(self, path: str, expires: int) -> str:
        """The signature of a GET of ``path`` valid until ``expires`` (epoch seconds)."""
        return self._sign(f"GET\n\n\n{expires}\n/{BUCKET}{path}")

    def signed_query(self, path: str, expires: int) -> str:
        """The query string of a signed URL, already percent-encoded."""
        signature = quote(self.url_signature(path, expires), safe="")
        return f"Expires={expires}&OSSAccessKeyId={self.access_key_id}&Signature={signature}"

    def check_url(self, path: str, expires: str, access_key_id: str, signature: str) -> bool:
        """Whether a signed URL's parameters are genuine (expiry is checked by the caller)."""
        if access_key_id != self.access_key_id or not expires.isdigit():
            return False
        return hmac.compare_digest(self.url_signature(path, int(expires)), signature)

    def policy_signature(self, policy_b64: str) -> str:
        """The signature of a base64 POST policy, as OSS form uploads carry it."""
        return self._sign(policy_b64)

    def check_policy(self, policy_b64: str, signature: str) -> bool:
        """Whether ``signature`` is the signature of ``policy_b64``."""
        return hmac.compare_digest(self.policy_signature(policy_b64), signature)
