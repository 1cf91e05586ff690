"""How secrets are stored: salted scrypt for passwords, SHA256 for login tokens.

A password is stored as scrypt over the SHA1 hex of the password, with a
per-user salt: classic clients send that SHA1 hex as their secret and modern
ones the password (SHA1'd before verifying), so both dialects keep working
while the stored value is no longer something a client could send. The
scrypt parameters are written into the stored string
(`scrypt$n=32768,r=8,p=1$<salt>$<digest>`) so that new hashes can use
stronger ones later while old rows still verify.

Login tokens are 160 random bits, so one SHA256 is enough to make the stored
form useless as a secret; what documents show is a short fingerprint of that
digest, which identifies a token (to revoke it) without revealing it.

This lives in the pool layer because the schema migration that converts old
rows needs it; the managers use it through `one.core.auth`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

SCHEME = "scrypt"
# ~80 ms and 32 MiB per hash: every uncached login pays it, the auth cache hides it.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 15, 8, 1
_MAXMEM = 128 * 1024 * 1024
_SALT_BYTES = 16
_DIGEST_BYTES = 32
FINGERPRINT_CHARS = 16


def sha1_hex(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM,
                          dklen=_DIGEST_BYTES)


def hash_password(sha1: str) -> str:
    """The stored form of a password given as its SHA1 hex (lower case)."""
    salt = os.urandom(_SALT_BYTES)
    digest = _scrypt(sha1, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"{SCHEME}$n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(stored: str, sha1: str) -> bool:
    """Whether `sha1` (a SHA1 hex) is the password `stored` was made from.

    A malformed stored value verifies nothing rather than raising: the caller
    is then simply not authenticated.
    """
    try:
        scheme, params, salt, digest = stored.split("$")
        values = dict(item.split("=") for item in params.split(","))
        if scheme != SCHEME:
            return False
        computed = _scrypt(sha1, base64.b64decode(salt), int(values["n"]), int(values["r"]),
                           int(values["p"]))
        return hmac.compare_digest(computed, base64.b64decode(digest))
    except (ValueError, KeyError):
        return False


def token_digest(token: str) -> str:
    """The stored form of a login token."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_fingerprint(digest: str) -> str:
    """What user documents show of a token: enough to tell tokens apart."""
    return digest[:FINGERPRINT_CHARS]
