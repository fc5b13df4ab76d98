// Round trip through cloud-connector with the AWS SDK for JavaScript v3 and
// its default settings (flexible checksums on: CRC32 on every upload, as a
// header for in-memory bodies and as an aws-chunked trailer with
// STREAMING-UNSIGNED-PAYLOAD-TRAILER for streams; checksum validation on GET).
//
//   node roundtrip.mjs ENDPOINT BUCKET PREFIX
//   (or S3_ENDPOINT, S3_BUCKET, S3_PREFIX in the environment)
//
// Prints one JSON line: what was stored (key -> size, md5, etag), what the SDK
// sent (per operation: x-amz-content-sha256, content-encoding, x-amz-trailer,
// checksum headers) and the failures. Exits 1 if anything did not match.
// Run by test/integration/test_sdks.py, which checks the backend afterwards.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";

import {
    CopyObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand,
    PutObjectCommand, S3Client, paginateListObjectsV2,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

const endpoint = process.argv[2] || process.env.S3_ENDPOINT;
const bucket = process.argv[3] || process.env.S3_BUCKET || "bucket1";
const prefix = process.argv[4] || process.env.S3_PREFIX || `sdk-js-${Date.now()}`;
if (!endpoint) {
    console.error("usage: node roundtrip.mjs ENDPOINT [BUCKET] [PREFIX]");
    process.exit(2);
}

const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: "us-east-1",
    credentials: { accessKeyId: "test:tester", secretAccessKey: "testing" },
    maxAttempts: 1,   // the answer the connector gave, not a retry of it
});

// Record what the SDK really puts on the wire (after signing and the checksum
// middleware): the deserialize step sees the final request.
const sent = {};
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const WATCH = ["x-amz-content-sha256", "content-encoding", "transfer-encoding", "x-amz-trailer",
    "x-amz-sdk-checksum-algorithm", "x-amz-decoded-content-length", "content-md5", "x-amz-checksum-mode",
    "x-amz-checksum-algorithm", "x-amz-checksum-type", "expect"];
client.middlewareStack.add((next, context) => async (args) => {
    const h = {};
    for (const [k, v] of Object.entries(args.request.headers || {})) {
        const lk = k.toLowerCase();
        if (!WATCH.includes(lk) && !lk.startsWith("x-amz-checksum-")) continue;
        if (lk.startsWith("x-amz-checksum-") && !WATCH.includes(lk)) h[lk] = "<value>";
        else if (lk === "x-amz-decoded-content-length") h[lk] = "<length>";
        else if (lk === "x-amz-content-sha256" && /^[0-9a-f]{64}$/.test(v)) h[lk] = v === EMPTY_SHA256 ? "<sha256 of empty body>" : "<sha256 of body>";
        else h[lk] = v;
    }
    const seen = (sent[context.commandName] ||= []);
    const sig = JSON.stringify(h);
    if (!seen.some((s) => JSON.stringify(s) === sig)) seen.push(h);
    return next(args);
}, { step: "deserialize", name: "ccRecordHeaders" });

const failures = [];
const objects = {};
const md5 = (b) => createHash("md5").update(b).digest("hex");
const check = (what, ok, detail) => { if (!ok) failures.push(`${what}: ${detail}`); };
const body = async (resp) => Buffer.from(await resp.Body.transformToByteArray());

async function step(name, fn) {
    try {
        await fn();
    } catch (e) {
        failures.push(`${name}: ${e.name}: ${e.message} (HTTP ${e.$metadata?.httpStatusCode})`);
    }
}

async function verifyGet(key, expected, etag) {
    const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const got = await body(r);
    check(`GetObject ${key}`, got.equals(expected), `got ${got.length} bytes md5 ${md5(got)}, want ${expected.length} md5 ${md5(expected)}`);
    if (etag) check(`GetObject ${key} ETag`, r.ETag === etag, `${r.ETag} != ${etag}`);
}

async function put(name, key, bodyArg, expected, extra = {}) {
    await step(name, async () => {
        const r = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bodyArg, ...extra }));
        check(`${name} ETag`, r.ETag === `"${md5(expected)}"`, `${r.ETag} != "${md5(expected)}"`);
        objects[key] = { size: expected.length, md5: md5(expected), etag: r.ETag };
        await verifyGet(key, expected, r.ETag);
    });
}

const text = `hello from aws-sdk-js v3, ${prefix}: ünïcödé ✓\n`;
const strKey = `${prefix}/string.txt`;
const bufKey = `${prefix}/buffer.bin`;
const streamKey = `${prefix}/stream.bin`;
const crc64Key = `${prefix}/stream-crc64nvme.bin`;
const copyKey = `${prefix}/copy of buffer.bin`;
const mpuKey = `${prefix}/multipart.bin`;
const buf = randomBytes(300 * 1024 + 17);
const streamed = randomBytes(1024 * 1024 + 4321);   // > one 64 KiB aws-chunk, odd tail
const big = randomBytes(12 * 1024 * 1024 + 12345);
const PART = 5 * 1024 * 1024;

// PutObject: string body, Buffer body (checksum header), stream body (aws-chunked + trailer).
await put("PutObject string", strKey, text, Buffer.from(text, "utf8"), { ContentType: "text/plain; charset=utf-8" });
await put("PutObject Buffer", bufKey, buf, buf, { Metadata: { origin: "sdk-js" } });
await put("PutObject stream", streamKey,
    Readable.from((function* () { for (let i = 0; i < streamed.length; i += 100000) yield streamed.subarray(i, i + 100000); })()),
    streamed, { ContentLength: streamed.length });
// Not a default: the checksum newer AWS tools favour, asked for explicitly (trailer x-amz-checksum-crc64nvme).
await put("PutObject stream CRC64NVME", crc64Key, Readable.from([streamed.subarray(0, 200001)]),
    streamed.subarray(0, 200001), { ContentLength: 200001, ChecksumAlgorithm: "CRC64NVME" });

await step("HeadObject", async () => {
    const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: bufKey }));
    check("HeadObject ContentLength", h.ContentLength === buf.length, `${h.ContentLength} != ${buf.length}`);
    check("HeadObject ETag", h.ETag === `"${md5(buf)}"`, h.ETag);
    check("HeadObject Metadata", h.Metadata?.origin === "sdk-js", JSON.stringify(h.Metadata));
    const t = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: strKey }));
    check("HeadObject ContentType", t.ContentType === "text/plain; charset=utf-8", t.ContentType);
});

await step("CopyObject", async () => {
    const r = await client.send(new CopyObjectCommand({
        Bucket: bucket, Key: copyKey, CopySource: `${bucket}/${encodeURIComponent(bufKey)}`,
    }));
    check("CopyObject ETag", r.CopyObjectResult?.ETag === `"${md5(buf)}"`, r.CopyObjectResult?.ETag);
    objects[copyKey] = { size: buf.length, md5: md5(buf), etag: r.CopyObjectResult?.ETag };
    await verifyGet(copyKey, buf);
});

// Multipart through lib-storage: 3 parts (5 MiB, 5 MiB, rest), up to 3 in flight.
await step("Upload (multipart)", async () => {
    const up = new Upload({
        client, params: { Bucket: bucket, Key: mpuKey, Body: big }, partSize: PART, queueSize: 3,
    });
    const r = await up.done();
    const parts = [];
    for (let i = 0; i < big.length; i += PART) parts.push(createHash("md5").update(big.subarray(i, i + PART)).digest());
    const want = `"${createHash("md5").update(Buffer.concat(parts)).digest("hex")}-${parts.length}"`;
    check("Upload ETag", r.ETag === want, `${r.ETag} != ${want}`);
    objects[mpuKey] = { size: big.length, md5: md5(big), etag: r.ETag, parts: parts.length };
    await verifyGet(mpuKey, big, r.ETag);
    // A range across the first part boundary, and a suffix range.
    const a = PART - 100, b = PART + 99;
    const g = await client.send(new GetObjectCommand({ Bucket: bucket, Key: mpuKey, Range: `bytes=${a}-${b}` }));
    const got = await body(g);
    check("GetObject Range bytes", got.equals(big.subarray(a, b + 1)), `md5 ${md5(got)} len ${got.length}`);
    check("GetObject Range ContentRange", g.ContentRange === `bytes ${a}-${b}/${big.length}`, g.ContentRange);
    const s = await client.send(new GetObjectCommand({ Bucket: bucket, Key: mpuKey, Range: "bytes=-1000" }));
    const tail = await body(s);
    check("GetObject suffix Range", tail.equals(big.subarray(big.length - 1000)), `len ${tail.length}`);
});

// ListObjectsV2, paginated two keys at a time, plus a delimiter listing.
const listed = [];
let pages = 0;
await step("ListObjectsV2", async () => {
    for await (const page of paginateListObjectsV2({ client, pageSize: 2 }, { Bucket: bucket, Prefix: `${prefix}/` })) {
        pages += 1;
        for (const o of page.Contents || []) {
            listed.push(o.Key);
            const want = objects[o.Key];
            if (want) {
                check(`List size ${o.Key}`, o.Size === want.size, `${o.Size} != ${want.size}`);
                check(`List ETag ${o.Key}`, o.ETag === want.etag, `${o.ETag} != ${want.etag}`);
            }
        }
    }
    const expected = Object.keys(objects).sort();
    check("ListObjectsV2 keys", JSON.stringify(listed) === JSON.stringify(expected),
        `${JSON.stringify(listed)} != ${JSON.stringify(expected)}`);
    check("ListObjectsV2 pages", pages === Math.ceil(expected.length / 2), `${pages} pages`);
});

// DeleteObjects: two throw-away keys (and one that never existed).
const deleted = [];
await step("DeleteObjects", async () => {
    const doomed = [`${prefix}/doomed-1`, `${prefix}/doomed 2+`];
    for (const k of doomed) await client.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: k }));
    const r = await client.send(new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: [...doomed, `${prefix}/never-existed`].map((Key) => ({ Key })) },
    }));
    const keys = (r.Deleted || []).map((d) => d.Key).sort();
    check("DeleteObjects Deleted", JSON.stringify(keys) === JSON.stringify([...doomed, `${prefix}/never-existed`].sort()),
        JSON.stringify(r));
    check("DeleteObjects Errors", !(r.Errors && r.Errors.length), JSON.stringify(r.Errors));
    for (const k of doomed) {
        try {
            await client.send(new HeadObjectCommand({ Bucket: bucket, Key: k }));
            failures.push(`HeadObject after DeleteObjects: ${k} still there`);
        } catch (e) {
            check(`HeadObject after delete ${k}`, e.$metadata?.httpStatusCode === 404, `${e.name} ${e.$metadata?.httpStatusCode}`);
        }
    }
    deleted.push(...doomed);
});

const sdkVersion = JSON.parse(readFileSync(new URL("./node_modules/@aws-sdk/client-s3/package.json", import.meta.url))).version;
console.log(JSON.stringify({ sdk: `aws-sdk-js-v3 ${sdkVersion}`, node: process.version, bucket, prefix,
    objects, deleted, listed, pages, sent, failures }));
process.exit(failures.length ? 1 : 0);
