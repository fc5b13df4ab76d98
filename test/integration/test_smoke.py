"""The core promise in one place: put lands locally under the 1space name,
get falls back to the on-prem copy, the listing merges both."""
from conftest import local_name, LOCAL_BUCKET


def test_put_get_list_round_trip(s3, local, remote, uid):
    key = f"smoke-{uid}/local.txt"
    s3.put_object(Bucket="bucket1", Key=key, Body=b"from the cloud", Metadata={"colour": "blue"})
    # The object really sits in the cloud bucket under its 1space name ...
    stored = local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))
    assert stored["Body"].read() == b"from the cloud"
    assert stored["Metadata"] == {"colour": "blue"}
    # ... and nothing was written on-prem.
    assert remote.list_objects_v2(Bucket="bucket1", Prefix=f"smoke-{uid}/")["KeyCount"] == 0

    remote.put_object(Bucket="bucket1", Key=f"smoke-{uid}/remote.txt", Body=b"from on-prem")
    got = s3.get_object(Bucket="bucket1", Key=f"smoke-{uid}/remote.txt")
    assert got["Body"].read() == b"from on-prem"

    listing = s3.list_objects_v2(Bucket="bucket1", Prefix=f"smoke-{uid}/")
    assert [o["Key"] for o in listing["Contents"]] == [f"smoke-{uid}/local.txt", f"smoke-{uid}/remote.txt"]
