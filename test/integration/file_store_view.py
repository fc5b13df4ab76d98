"""Direct access to the embedded file store (file:///dir) for tests, shaped like
the boto3 client the tests use for the cloud S3 store, so the core suite can run
with either local store (`--local-store=file`, see conftest.py).

Reads go to the store itself, never through the connector: the metadata
records come from the store's RocksDB, read with RocksDB's own `ldb` beside the
running connector, and the bytes from the data files they name. Writes cannot
go in directly (one process owns the directory), so a test's setup writes of a
local copy (`put_object`, `delete_object`) go through the connector that owns
the store, as a client's PUT/DELETE under the default `local` write policy,
which stores exactly that copy. The 1space name says which bucket and key.
"""
import datetime
import hashlib
import io
import re
import subprocess
import types

import botocore.exceptions
import pytest

CREDENTIALS = {"AUTH_test": ("test:tester", "testing"), "AUTH_test2": ("test2:tester2", "testing2")}
HEADER_FIELDS = {"cache-control": "CacheControl", "content-disposition": "ContentDisposition",
                 "content-encoding": "ContentEncoding", "content-language": "ContentLanguage", "expires": "Expires"}


def meta_records(store, kind="o"):
    """{key: value} of one kind of record in the store's RocksDB (read-only, beside the connector)."""
    r = subprocess.run(["ldb", f"--db={store / 'meta'}", "scan", "--hex"], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.decode().splitlines():   # "0x<key> : 0x<value>"
        tokens = line.split()
        assert tokens[0].startswith("0x") and tokens[-1].startswith("0x"), line
        key = bytes.fromhex(tokens[0][2:])
        if key[:1] == kind.encode():
            out[key[1:].decode()] = bytes.fromhex(tokens[-1][2:])
    return out


def decode_record(value):
    """An object record: version 1, file, size, etag, mtime, type, user meta, headers, clean, atime."""
    pos = 1

    def varint():
        nonlocal pos
        v = shift = 0
        while True:
            c = value[pos]
            pos += 1
            v |= (c & 0x7F) << shift
            if not c & 0x80:
                return v
            shift += 7

    def string():
        nonlocal pos
        n = varint()
        pos += n
        return value[pos - n:pos].decode()

    def headers():
        return [(string(), string()) for _ in range(varint())]
    assert value[0] == 1
    rec = {"file": string(), "size": varint(), "etag": string(), "mtime": varint(), "content_type": string(),
           "user_meta": headers(), "headers": headers(), "clean": bool(varint()), "atime": varint()}
    assert pos == len(value)
    return rec


class NoSuchKey(botocore.exceptions.ClientError):
    pass


def _error(cls, code, operation, message):
    return cls({"Error": {"Code": code, "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 404}}, operation)


def _hash_prefix(account, container):
    return hex(int(hashlib.md5(f"{account}/{container}".encode()).hexdigest(), 16) % 16**6)[2:]


def bucket_and_key(name):
    """The (account, bucket, key) a 1space name belongs to under the test mapping
    (conftest.mapping_entries): <hash>/<account>/<bucket>/key, pfx/key (custom
    prefix of `prefixed`), or a bare key (`noprefix`)."""
    m = re.fullmatch(r"([0-9a-f]{1,6})/(AUTH_[^/]+)/([^/]+)/(.*)", name, re.S)
    if m and m.group(1) == _hash_prefix(m.group(2), m.group(3)):
        return m.group(2), m.group(3), m.group(4)
    if name.startswith("pfx/"):
        return "AUTH_test", "prefixed", name[4:]
    return "AUTH_test", "noprefix", name


class FileStoreView:
    """The local copies of the running connectors whose local store is a file store."""

    def __init__(self, connectors):
        self._connectors = connectors        # running Connector objects, newest last
        self._clients = {}
        self.exceptions = types.SimpleNamespace(ClientError=botocore.exceptions.ClientError, NoSuchKey=NoSuchKey)

    @property
    def meta(self):
        pytest.skip("checks raw S3 response headers of the cloud bucket; the file store has no S3 endpoint")

    # ---------------------------------------------------------------- reads

    def _records(self, namespace):
        """[(store dir, name, record)] of every running connector's store, in name order."""
        out = []
        for c in list(self._connectors):
            if not (c.file_store / "meta").exists():
                continue
            for full, value in meta_records(c.file_store).items():
                ns, _, name = full.partition("\0")
                if ns == namespace:
                    out.append((c.file_store, name, decode_record(value)))
        return sorted(out, key=lambda t: t[1].encode())

    def _find(self, bucket, key, operation, cls):
        for store, name, rec in self._records(bucket):
            if name == key:
                return store, rec
        raise _error(cls, "404" if cls is botocore.exceptions.ClientError else "NoSuchKey", operation,
                     f"{key} is not in the file store")

    @staticmethod
    def _head_of(rec):
        head = {"ContentLength": rec["size"], "ETag": rec["etag"], "ContentType": rec["content_type"],
                "LastModified": datetime.datetime.fromtimestamp(rec["mtime"], datetime.timezone.utc),
                "Metadata": dict(rec["user_meta"]), "ResponseMetadata": {"HTTPStatusCode": 200}}
        for name, value in rec["headers"]:
            if name.lower() in HEADER_FIELDS:
                head[HEADER_FIELDS[name.lower()]] = value
        return head

    def head_object(self, Bucket, Key):
        return self._head_of(self._find(Bucket, Key, "HeadObject", botocore.exceptions.ClientError)[1])

    def metadata_as_stored(self, Bucket, Key):
        """User metadata exactly as recorded (RFC 2047 words stay encoded)."""
        return dict(self._find(Bucket, Key, "HeadObject", botocore.exceptions.ClientError)[1]["user_meta"])

    def get_object(self, Bucket, Key):
        store, rec = self._find(Bucket, Key, "GetObject", NoSuchKey)
        data = (store / "objects" / rec["file"]).read_bytes()
        assert len(data) == rec["size"], (Key, len(data), rec["size"])
        return dict(self._head_of(rec), Body=io.BytesIO(data))

    def list_objects_v2(self, Bucket, Prefix="", Delimiter="", StartAfter="", **unsupported):
        """One page holding everything (no MaxKeys paging), rolled up at Delimiter like S3."""
        assert not unsupported, f"not implemented by the file store view: {sorted(unsupported)}"
        contents, prefixes = [], []
        for _, name, rec in self._records(Bucket):
            if not name.startswith(Prefix) or name.encode() <= StartAfter.encode():
                continue
            cut = name.find(Delimiter, len(Prefix)) if Delimiter else -1
            if cut >= 0:
                rolled = name[:cut + len(Delimiter)]
                if not prefixes or prefixes[-1]["Prefix"] != rolled:
                    prefixes.append({"Prefix": rolled})
            else:
                contents.append({"Key": name, "Size": rec["size"], "ETag": rec["etag"]})
        page = {"KeyCount": len(contents) + len(prefixes), "IsTruncated": False, "Prefix": Prefix}
        if contents:
            page["Contents"] = contents
        if prefixes:
            page["CommonPrefixes"] = prefixes
        return page

    def list_buckets(self):
        """The namespaces (mapping aws_bucket values) that hold objects."""
        names = set()
        for c in list(self._connectors):
            if (c.file_store / "meta").exists():
                names |= {full.partition("\0")[0] for full in meta_records(c.file_store)}
        return {"Buckets": [{"Name": n} for n in sorted(names)]}

    def get_paginator(self, operation):
        assert operation == "list_objects_v2", operation
        return types.SimpleNamespace(paginate=lambda **kw: iter([self.list_objects_v2(**kw)]))

    def list_multipart_uploads(self, Bucket, Prefix=""):
        uploads = []
        for c in list(self._connectors):
            if (c.file_store / "meta").exists():
                for full in meta_records(c.file_store, "m"):
                    ns, name, upload_id = full.split("\0")
                    if ns == Bucket and name.startswith(Prefix):
                        uploads.append({"Key": name, "UploadId": upload_id})
        return {"Uploads": uploads} if uploads else {}

    # ---------------------------------------------------- setup writes

    def _client_for(self, name):
        account, bucket, key = bucket_and_key(name)
        alive = [c for c in self._connectors if c.proc and c.proc.poll() is None]
        assert alive, "no running connector owns a file store"
        client = self._clients.get((alive[-1], account))
        if client is None:
            client = self._clients[(alive[-1], account)] = alive[-1].client(*CREDENTIALS[account])
        return client, bucket, key

    def put_object(self, Bucket, Key, **kw):
        client, bucket, key = self._client_for(Key)
        return client.put_object(Bucket=bucket, Key=key, **kw)

    def delete_object(self, Bucket, Key):
        client, bucket, key = self._client_for(Key)
        return client.delete_object(Bucket=bucket, Key=key)
