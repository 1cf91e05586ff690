"""Signature Version 4 and 2, verified exactly: wrong secret, wrong date, replay, tampering."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import urllib.error
import urllib.parse
import urllib.request
from unittest import mock

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from lxml import etree

from tests.econe.conftest import REGION, Cloud

FORM = "application/x-www-form-urlencoded; charset=utf-8"
BODY = "Action=DescribeRegions&Version=2016-11-15"


def _send(url: str, headers: dict[str, str], body: str = BODY,
          method: str = "POST") -> tuple[int, str]:
    request = urllib.request.Request(url, data=body.encode() if method == "POST" else None,
                                     headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, etree.fromstring(reply.read()).tag.split("}")[-1]
    except urllib.error.HTTPError as exc:
        return exc.code, etree.fromstring(exc.read()).findtext("Errors/Error/Code")


def _v4(cloud: Cloud, secret: str | None = None, when: dt.datetime | None = None,
        region: str = REGION, body: str = BODY, user: str = "alice") -> dict[str, str]:
    """Headers botocore's own SigV4 signer makes, as of `when` (now by default)."""
    access, real = cloud.keys[user]
    request = AWSRequest("POST", cloud.url + "/", data=body.encode(),
                         headers={"Content-Type": FORM})
    signer = SigV4Auth(Credentials(access, secret or real), "ec2", region)
    moment = (when or dt.datetime.now(dt.timezone.utc)).replace(tzinfo=None)
    with mock.patch.object(botocore.auth, "get_current_datetime", lambda: moment):
        signer.add_auth(request)
    return dict(request.headers.items())


def test_v4_accepts_a_good_signature(cloud: Cloud) -> None:
    assert _send(cloud.url + "/", _v4(cloud)) == (200, "DescribeRegionsResponse")


def test_v4_refusals(cloud: Cloud) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    assert _send(cloud.url + "/", _v4(cloud, secret="x" * 40)) == (403, "SignatureDoesNotMatch")
    assert _send(cloud.url + "/", _v4(cloud, region="us-east-1")) == (401, "AuthFailure")
    old = _v4(cloud, when=now - dt.timedelta(minutes=16))  # a replayed old request
    assert _send(cloud.url + "/", old) == (400, "RequestExpired")
    ahead = _v4(cloud, when=now + dt.timedelta(minutes=16))  # a clock far ahead
    assert _send(cloud.url + "/", ahead) == (400, "RequestExpired")
    within = _v4(cloud, when=now - dt.timedelta(minutes=10))
    assert _send(cloud.url + "/", within) == (200, "DescribeRegionsResponse")
    signed = _v4(cloud)  # the body is part of the signature
    tampered = BODY.replace("DescribeRegions", "DescribeImages")
    assert _send(cloud.url + "/", signed, tampered) == (403, "SignatureDoesNotMatch")
    wrong_hash = {**signed, "X-Amz-Content-SHA256": hashlib.sha256(b"other").hexdigest()}
    assert _send(cloud.url + "/", wrong_hash) == (403, "SignatureDoesNotMatch")
    assert _send(cloud.url + "/", {"Content-Type": FORM}) == (401, "AuthFailure")
    garbled = {**signed, "Authorization": "AWS4-HMAC-SHA256 Credential=x"}
    assert _send(cloud.url + "/", garbled) == (401, "AuthFailure")
    unscoped = {**signed, "Authorization": signed["Authorization"].replace("/ec2/", "/s3/")}
    assert _send(cloud.url + "/", unscoped) == (401, "AuthFailure")


def test_unknown_deleted_and_disabled_keys(cloud: Cloud) -> None:
    boto = cloud.ec2()
    boto.describe_regions()
    uid = int(etree.fromstring(cloud.rpc.ok("one.user.ec2keys_secret", cloud.keys["alice"][0]))
              .findtext("UID"))
    cloud.rpc.ok("one.user.enable", uid, False)
    with pytest.raises(ClientError) as excinfo:
        boto.describe_regions()
    assert excinfo.value.response["Error"]["Code"] == "AuthFailure"
    cloud.rpc.ok("one.user.enable", uid, True)
    cloud.rpc.ok("one.user.ec2keys_delete", uid, cloud.keys["alice"][0])
    with pytest.raises(ClientError) as excinfo:
        boto.describe_regions()
    assert excinfo.value.response["Error"]["Code"] == "AuthFailure"


def _v2(cloud: Cloud, method: str = "HmacSHA256", secret: str | None = None,
        host: str | None = None, **times: str) -> str:
    """A V2-signed GET URL, signed as the documentation says (HTTP verb, host, path, query)."""
    access, real = cloud.keys["alice"]
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    params = {"Action": "DescribeRegions", "Version": "2016-11-15", "AWSAccessKeyId": access,
              "SignatureVersion": "2", "SignatureMethod": method,
              **(times or {"Timestamp": stamp})}
    query = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
                     for k, v in sorted(params.items()))
    netloc = host or urllib.parse.urlsplit(cloud.url).netloc
    digest = hashlib.sha256 if method == "HmacSHA256" else hashlib.sha1
    mac = hmac.new((secret or real).encode(), f"GET\n{netloc}\n/\n{query}".encode(), digest)
    signature = urllib.parse.quote(base64.b64encode(mac.digest()).decode(), safe="")
    return f"{cloud.url}/?{query}&Signature={signature}"


def test_v2(cloud: Cloud) -> None:
    get = lambda url: _send(url, {}, method="GET")  # noqa: E731
    assert get(_v2(cloud)) == (200, "DescribeRegionsResponse")
    assert get(_v2(cloud, "HmacSHA1")) == (200, "DescribeRegionsResponse")
    assert get(_v2(cloud, host="127.0.0.1")) == (200, "DescribeRegionsResponse")  # libcloud's
    assert get(_v2(cloud, host="localhost")) == (403, "SignatureDoesNotMatch")
    assert get(_v2(cloud, secret="y" * 40)) == (403, "SignatureDoesNotMatch")
    assert get(_v2(cloud, "HmacMD5")) == (401, "AuthFailure")
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=20))
    assert get(_v2(cloud, Timestamp=old.strftime("%Y-%m-%dT%H:%M:%SZ"))) == (
        400, "RequestExpired")
    assert get(_v2(cloud, Expires=old.strftime("%Y-%m-%dT%H:%M:%SZ"))) == (
        400, "RequestExpired")
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)
    assert get(_v2(cloud, Expires=later.strftime("%Y-%m-%dT%H:%M:%SZ"))) == (
        200, "DescribeRegionsResponse")
    assert get(_v2(cloud, Timestamp="yesterday")) == (401, "AuthFailure")
