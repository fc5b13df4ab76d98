"""Virtual-hosted addressing for the configured storage domains (the
signature is checked over the Host as sent, port included), alongside path style."""
import socket

import pytest
from conftest import LOCAL_BUCKET, local_name, s3_client
from botocore.config import Config
import boto3

DOMAIN = "s3.cc.test"


@pytest.fixture
def vhost_connector(make_connector, monkeypatch):
    c = make_connector(extra_conf=f"storage_domain = other.example, {DOMAIN}").start()
    real = socket.getaddrinfo

    def resolve(host, *args, **kw):   # *.s3.cc.test is this machine, for the clients in this test
        if isinstance(host, str) and (host == DOMAIN or host.endswith("." + DOMAIN)):
            host = "127.0.0.1"
        return real(host, *args, **kw)
    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return c


@pytest.mark.parametrize("sig", ["s3v4", "s3"])
def test_virtual_hosted_round_trip(vhost_connector, local, uid, sig):
    c = boto3.client("s3", endpoint_url=f"http://{DOMAIN}:{vhost_connector.port}", region_name="us-east-1",
                     aws_access_key_id="test:tester", aws_secret_access_key="testing",
                     config=Config(signature_version=sig, s3={"addressing_style": "virtual"}))
    key = f"vhost-{uid}/{sig}/ünï key"
    c.put_object(Bucket="bucket1", Key=key, Body=b"virtual")
    assert local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["Body"].read() == b"virtual"
    assert c.get_object(Bucket="bucket1", Key=key)["Body"].read() == b"virtual"
    assert c.head_object(Bucket="bucket1", Key=key)["ContentLength"] == 7
    if sig == "s3v4":   # Debian's botocore cannot sign SigV2 bucket-level requests (a client bug)
        keys = [o["Key"] for o in c.list_objects_v2(Bucket="bucket1", Prefix=f"vhost-{uid}/")["Contents"]]
        assert keys == [key]
    c.delete_object(Bucket="bucket1", Key=key)
    assert local.list_objects_v2(Bucket=LOCAL_BUCKET, Prefix=local_name(f"vhost-{uid}/"))["KeyCount"] == 0


def test_path_style_still_works_with_domains_configured(vhost_connector, uid):
    c = s3_client(vhost_connector.url)
    c.put_object(Bucket="bucket1", Key=f"vhost-{uid}/path", Body=b"p")
    assert c.get_object(Bucket="bucket1", Key=f"vhost-{uid}/path")["Body"].read() == b"p"
