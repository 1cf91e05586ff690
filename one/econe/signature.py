"""AWS request signatures, Version 4 (boto3, the aws CLI) and Version 2 (older clients).

Both are HMACs over a canonical form of the request, so verifying means
rebuilding that form exactly as the client did and comparing MACs in
constant time. `access_key` says whose secret to fetch; `verify` then checks
the time window and the signature.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import urllib.parse
from dataclasses import dataclass

from one.econe.errors import Ec2Error

SKEW = dt.timedelta(minutes=15)  # EC2's window for X-Amz-Date and Timestamp
V4 = "AWS4-HMAC-SHA256"
_V4_HEADER = re.compile(r"AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),"
                        r"\s*Signature=([0-9a-f]{64})\s*$")
_V2_METHODS = {"HmacSHA256": hashlib.sha256, "HmacSHA1": hashlib.sha1}
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]        # the URL's parameters, in order
    headers: dict[str, str]             # lower-case names
    body: bytes
    params: dict[str, str]              # URL and form parameters together

    @property
    def host(self) -> str:
        return self.headers.get("host", "")


def _quote(text: str) -> str:
    """RFC 3986 percent-encoding, as both signature versions specify."""
    return urllib.parse.quote(text, safe="-_.~")


def _canonical_query(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted((_quote(k), _quote(v)) for k, v in pairs))


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _auth_failure(message: str) -> Ec2Error:
    return Ec2Error("AuthFailure", message)


def _mismatch() -> Ec2Error:
    return Ec2Error("SignatureDoesNotMatch", "The request signature we calculated does not "
                    "match the signature you provided. Check your AWS Secret Access Key and "
                    "signing method.")


def _check_time(when: dt.datetime, now: dt.datetime) -> None:
    if abs(now - when) > SKEW:
        raise Ec2Error("RequestExpired", f"Request has expired: {when:%Y-%m-%dT%H:%M:%SZ} is "
                       f"more than 15 minutes from the server time {now:%Y-%m-%dT%H:%M:%SZ}.")


@dataclass(frozen=True)
class V4Auth:
    access_key: str
    date: str            # yyyymmdd of the scope
    region: str
    service: str
    signed_headers: list[str]
    signature: str


def _v4_auth(request: Request) -> V4Auth | None:
    header = request.headers.get("authorization", "")
    if not header.startswith(V4):
        return None
    match = _V4_HEADER.match(header)
    if match is None:
        raise _auth_failure("Malformed Authorization header.")
    scope = match.group(1).split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise _auth_failure(f"Credential '{match.group(1)}' is not "
                            "AKID/yyyymmdd/region/service/aws4_request.")
    return V4Auth(scope[0], scope[1], scope[2], scope[3], match.group(2).split(";"),
                  match.group(3))


def access_key(request: Request) -> str:
    """Whose request this claims to be; AuthFailure when it is not signed at all."""
    v4 = _v4_auth(request)
    if v4 is not None:
        return v4.access_key
    key = request.params.get("AWSAccessKeyId")
    if key and request.params.get("SignatureVersion") == "2":
        return key
    raise _auth_failure("The request is not signed (AWS Signature Version 4 or 2 expected).")


def verify(request: Request, secret: str, region: str, now: dt.datetime) -> None:
    """Raises Ec2Error unless `request` is signed with `secret` within the window."""
    v4 = _v4_auth(request)
    if v4 is not None:
        _verify_v4(request, v4, secret, region, now)
    else:
        _verify_v2(request, secret, now)


def _canonical_request(request: Request, v4: V4Auth) -> str:
    headers = []
    for name in v4.signed_headers:
        if name not in request.headers:
            raise _auth_failure(f"Signed header '{name}' is missing from the request.")
        headers.append(f"{name}:{_SPACES.sub(' ', request.headers[name].strip())}\n")
    path = urllib.parse.quote(request.path or "/", safe="/-_.~")
    body_hash = hashlib.sha256(request.body).hexdigest()
    claimed = request.headers.get("x-amz-content-sha256")
    if claimed not in (None, body_hash, "UNSIGNED-PAYLOAD"):
        raise _mismatch()
    return "\n".join([request.method, path, _canonical_query(request.query), "".join(headers),
                      ";".join(v4.signed_headers), body_hash])


def _verify_v4(request: Request, v4: V4Auth, secret: str, region: str,
               now: dt.datetime) -> None:
    stamp = request.headers.get("x-amz-date", "")
    try:
        when = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise _auth_failure("X-Amz-Date header missing or not yyyymmddThhmmssZ.") from None
    if "host" not in v4.signed_headers or "x-amz-date" not in v4.signed_headers:
        raise _auth_failure("SignedHeaders must include host and x-amz-date.")
    if v4.date != stamp[:8] or v4.service != "ec2" or v4.region != region:
        raise _auth_failure(f"Credential should be scoped to {stamp[:8]}/{region}/ec2/"
                            f"aws4_request, not {v4.date}/{v4.region}/{v4.service}.")
    _check_time(when, now)
    scope = f"{v4.date}/{v4.region}/{v4.service}/aws4_request"
    digest = hashlib.sha256(_canonical_request(request, v4).encode()).hexdigest()
    to_sign = f"{V4}\n{stamp}\n{scope}\n{digest}"
    key = _hmac(("AWS4" + secret).encode(), v4.date)
    for part in (v4.region, v4.service, "aws4_request"):
        key = _hmac(key, part)
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, v4.signature):
        raise _mismatch()


def _v2_time(params: dict[str, str], now: dt.datetime) -> None:
    """Timestamp within the window, or Expires not yet passed."""
    stamp, expires = params.get("Timestamp"), params.get("Expires")
    try:
        when = dt.datetime.fromisoformat((stamp or expires or "").replace("Z", "+00:00"))
    except ValueError:
        raise _auth_failure("Timestamp or Expires must be an ISO 8601 time.") from None
    when = when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
    if stamp:
        _check_time(when, now)
    elif when < now:
        raise Ec2Error("RequestExpired", f"Request has expired: Expires {expires}.")


def _verify_v2(request: Request, secret: str, now: dt.datetime) -> None:
    params = request.params
    digestmod = _V2_METHODS.get(params.get("SignatureMethod", ""))
    if digestmod is None:
        raise _auth_failure("SignatureMethod must be HmacSHA256 or HmacSHA1.")
    _v2_time(params, now)
    query = _canonical_query([(k, v) for k, v in params.items() if k != "Signature"])
    host = request.host.lower()
    # Clients differ on a non-default port in the signed host (boto 2 signs it, libcloud
    # does not): both name the same endpoint, so both are accepted.
    hosts = {host, host.rsplit(":", 1)[0]}
    try:
        given = base64.b64decode(params.get("Signature", ""), validate=True)
    except ValueError:
        raise _mismatch() from None
    for name in hosts:
        to_sign = f"{request.method}\n{name}\n{request.path or '/'}\n{query}"
        if hmac.compare_digest(hmac.new(secret.encode(), to_sign.encode(), digestmod).digest(),
                               given):
            return
    raise _mismatch()
