"""Key pairs, kept per user in the user's template (EC2_KEYPAIRS, JSON: name -> key).

Only the public half is stored: CreateKeyPair returns the private key once.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from one.econe.app import Call
from one.econe.errors import Ec2Error
from one.econe.params import listed, required
from one.econe.xml import Element, fields, item_set, node, quoted

ATTRIBUTE = "EC2_KEYPAIRS"
_RSA_BITS = 2048


def _colons(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def _pair_id(name: str) -> str:
    return "key-" + hashlib.sha256(name.encode()).hexdigest()[:17]


def stored_pairs(call: Call) -> dict[str, dict[str, str]]:
    user = call.document("one.user.info", -1)
    text = user.findtext(f"TEMPLATE/{ATTRIBUTE}")
    try:
        pairs = json.loads(text) if text else {}
    except ValueError:
        return {}
    return pairs if isinstance(pairs, dict) else {}


def _store(call: Call, pairs: dict[str, dict[str, str]]) -> None:
    call.one("one.user.update", -1, f"{ATTRIBUTE} = {quoted(json.dumps(pairs))}", 1)


def public_key(call: Call, name: str) -> str:
    """The OpenSSH public key of a pair, for a VM's CONTEXT."""
    pair = stored_pairs(call).get(name)
    if pair is None:
        raise Ec2Error("InvalidKeyPair.NotFound", f"The key pair '{name}' does not exist")
    return pair["public_key"]


def _new_name(call: Call, pairs: dict[str, dict[str, str]]) -> str:
    name = required(call.params, "KeyName")
    if name in pairs:
        raise Ec2Error("InvalidKeyPair.Duplicate", f"The keypair '{name}' already exists.")
    if len(name) > 255:
        raise Ec2Error("InvalidParameterValue", "KeyName is longer than 255 characters.")
    return name


def _pair(name: str, pair: dict[str, str]) -> dict[str, object]:
    return {"keyPairId": _pair_id(name), "keyName": name,
            "keyFingerprint": pair["fingerprint"]}


def create_key_pair(call: Call) -> list[Element]:
    pairs = stored_pairs(call)
    name = _new_name(call, pairs)
    key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)
    pkcs8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    openssh = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                            serialization.PublicFormat.OpenSSH).decode()
    pairs[name] = {"fingerprint": _colons(hashlib.sha1(pkcs8).digest()), "public_key": openssh}
    _store(call, pairs)
    return [node(k, v) for k, v in _pair(name, pairs[name]).items()] + [node("keyMaterial", pem)]


def import_key_pair(call: Call) -> list[Element]:
    pairs = stored_pairs(call)
    name = _new_name(call, pairs)
    try:
        text = base64.b64decode(required(call.params, "PublicKeyMaterial"), validate=True)
        key = serialization.load_ssh_public_key(text.strip())
    except (binascii.Error, ValueError, UnsupportedAlgorithm):
        raise Ec2Error("InvalidKey.Format", "Key is not in valid OpenSSH public key format") \
            from None
    der = key.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    pairs[name] = {"fingerprint": _colons(hashlib.md5(der).digest()),
                   "public_key": text.decode().strip()}
    _store(call, pairs)
    return [node(k, v) for k, v in _pair(name, pairs[name]).items()]


def describe_key_pairs(call: Call) -> list[Element]:
    pairs = stored_pairs(call)
    wanted = listed(call.params, "KeyName")
    missing = [n for n in wanted if n not in pairs]
    if missing:
        raise Ec2Error("InvalidKeyPair.NotFound", f"The key pair '{missing[0]}' does not exist")
    return [item_set("keySet", [fields("item", _pair(name, pairs[name]))
                                for name in (wanted or sorted(pairs))])]


def delete_key_pair(call: Call) -> list[Element]:
    """Deleting a pair that does not exist succeeds, as in EC2."""
    pairs = stored_pairs(call)
    if pairs.pop(required(call.params, "KeyName"), None) is not None:
        _store(call, pairs)
    return [node("return", "true")]
