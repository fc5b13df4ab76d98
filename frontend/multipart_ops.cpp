// Multipart upload and multi-object delete: the operations whose requests or
// answers are XML documents. Uploads build a local object, so they are passed
// to the bucket's store stack, which sends them to the local store under the
// object's 1space name; the local store's upload ids are handed out as is.
#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/SAX/SAXException.h>
#include <Poco/String.h>

#include <cstdlib>
#include <sstream>

#include "common/crypto.h"
#include "common/timefmt.h"
#include "common/xml_escape.h"
#include "engine/copy_through.h"
#include "frontend/operations.h"
#include "frontend/request_body.h"
#include "frontend/responses.h"

namespace cc {
namespace {

constexpr const char* kXmlHead = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
constexpr const char* kNs = " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";
constexpr std::uint64_t kMaxPartSize = 5ull << 30;
constexpr std::uint64_t kMaxXmlBody = 2u << 20;   // 10 000 parts or 1000 keys fit comfortably

void element(std::ostringstream& out, const char* name, const std::string& text) {
    out << '<' << name << '>' << xml_escape(text) << "</" << name << '>';
}

void owner(std::ostringstream& out, const char* tag, const std::string& account) {
    out << '<' << tag << '>';
    element(out, "ID", account);
    element(out, "DisplayName", account);
    out << "</" << tag << '>';
}

S3Error malformed_xml(const std::string& why) {
    return S3Error(400, "MalformedXML",
                   "The XML you provided was not well-formed or did not validate against our published schema: " + why);
}

S3Error invalid_argument(const std::string& message, const std::string& name, const std::string& value) {
    S3Error e(400, "InvalidArgument", message);
    e.detail_name = "ArgumentName";
    e.detail_value = name + "=" + value;
    return e;
}

int part_number_of(const S3Request& req) {
    const std::string v = req.value("partNumber");
    char* end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end || n < 1 || n > 10000)
        throw invalid_argument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", v);
    return static_cast<int>(n);
}

int bounded_int(const S3Request& req, const char* name, int fallback, int max) {
    if (!req.has(name)) return fallback;
    const std::string v = req.value(name);
    char* end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end || n < 0) throw invalid_argument(std::string(name) + " must be a non-negative integer", name, v);
    return static_cast<int>(std::min<long>(n, max));
}

// Reads a small XML request body completely (Content-MD5 checked), for
// CompleteMultipartUpload and DeleteObjects.
std::string read_xml_body(OperationContext& ctx) {
    S3Request& req = ctx.req;
    if (!req.http->hasContentLength())
        throw S3Error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.");
    const std::uint64_t length = static_cast<std::uint64_t>(req.http->getContentLength64());
    if (length > kMaxXmlBody) throw malformed_xml("the document is larger than 2 MiB");
    std::string md5;
    if (req.has_header("Content-MD5") &&
        (!base64_decode(req.header("Content-MD5"), md5) || md5.size() != 16))
        throw S3Error(400, "InvalidDigest", "The Content-MD5 you specified is not valid.");
    const std::string& payload = ctx.who.payload_hash;
    if (req.http->getExpectContinue()) ctx.resp.sendContinue();
    RequestBody body(req.body(), length, md5, payload.size() == 64 ? Poco::toLower(payload) : "");
    std::string doc(length, '\0');
    std::size_t done = 0;
    while (done < length) done += body.read(doc.data() + done, length - done);
    body.read(nullptr, 0);   // verifies the digests of an empty body too
    req.body_consumed = true;
    return doc;
}

Poco::AutoPtr<Poco::XML::Document> parse_xml(const std::string& doc, const char* root_name) {
    Poco::XML::DOMParser parser;
    parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, false);
    Poco::AutoPtr<Poco::XML::Document> d;
    try {
        d = parser.parseString(doc);
    } catch (const Poco::Exception& e) {
        throw malformed_xml(e.displayText());
    }
    if (!d->documentElement() || d->documentElement()->nodeName() != root_name)
        throw malformed_xml(std::string("the root element must be ") + root_name);
    return d;
}

std::string child(Poco::XML::Element* e, const char* name) {
    Poco::XML::Element* c = e->getChildElement(name);
    return c ? c->innerText() : std::string();
}

}  // namespace

void create_multipart_upload(OperationContext& ctx, ObjectStore& store) {
    WriteOptions w = write_options(ctx.req);
    std::string id = store.create_upload(ctx.req.key, w);
    ctx.answered_by = "local";
    std::ostringstream out;
    out << kXmlHead << "<InitiateMultipartUploadResult" << kNs << '>';
    element(out, "Bucket", ctx.req.bucket);
    element(out, "Key", ctx.req.key);
    element(out, "UploadId", id);
    out << "</InitiateMultipartUploadResult>";
    send_xml(ctx.resp, 200, out.str());
}

void upload_part(OperationContext& ctx, ObjectStore& store) {
    S3Request& req = ctx.req;
    const int part = part_number_of(req);
    const std::string upload_id = req.value("uploadId");
    const BodySpec spec = checked_body(ctx, kMaxPartSize);
    if (req.http->getExpectContinue()) ctx.resp.sendContinue();
    RequestBody body(req.body(), spec);
    // An empty body is checked (digests, the final aws-chunked chunk) before the store
    // sees it: a store may never ask for its zero bytes.
    if (spec.length == 0) body.read(nullptr, 0);
    std::string etag;
    try {
        etag = store.upload_part(req.key, upload_id, part, body, req.header("Content-MD5"));
    } catch (...) {
        req.body_consumed = body.complete();
        throw;
    }
    req.body_consumed = body.complete();
    body.expect_all_taken();
    ctx.bytes_in = spec.length;
    ctx.answered_by = "local";
    if (etag.empty() && !body.md5_raw().empty()) etag = "\"" + to_hex(body.md5_raw()) + "\"";
    if (!etag.empty()) ctx.resp.set("ETag", etag);
    ctx.resp.setContentLength(0);
    ctx.resp.send();
}

void upload_part_copy(OperationContext& ctx, ObjectStore& store) {
    S3Request& req = ctx.req;
    const int part = part_number_of(req);
    CopySourceSpec src = copy_source_of(req);
    const std::string range = req.header("x-amz-copy-source-range");
    if (!range.empty()) {
        if (range.rfind("bytes=", 0) != 0 || range.find('-') == std::string::npos || range.find(',') != std::string::npos)
            throw invalid_argument("The x-amz-copy-source-range value must be of the form bytes=first-last",
                                   "x-amz-copy-source-range", range);
        src.read.range = range;
    }
    StorePtr source_store = src.bucket == req.bucket ? nullptr : ctx.open_bucket(src.bucket);
    ObjectStore& from = source_store ? *source_store : store;
    const std::string upload_id = req.value("uploadId");
    CopyOutcome out = copy_through(from, src.key, src.read, [&](BodySource& body, const ReadResult& head) {
        if (head.content_length > kMaxPartSize)
            throw S3Error(400, "InvalidRequest", "The specified copy source is larger than the maximum part size");
        return store.upload_part(req.key, upload_id, part, body, "");
    });
    using S = ReadResult::Status;
    if (out.source.status == S::NotFound) {
        S3Error e(404, "NoSuchKey", "The specified key does not exist.");
        e.detail_name = "Key";
        e.detail_value = src.key;
        throw e;
    }
    if (!out.written) {
        if (out.source.status == S::RangeNotSatisfiable)
            throw S3Error(416, "InvalidRange", "The requested range is not satisfiable");
        throw S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
    }
    ctx.answered_by = out.source.answered_by;
    std::ostringstream xml;
    xml << kXmlHead << "<CopyPartResult" << kNs << '>';
    element(xml, "LastModified", iso8601(std::time(nullptr)));
    element(xml, "ETag", *out.written);
    xml << "</CopyPartResult>";
    send_xml(ctx.resp, 200, xml.str());
}

void complete_multipart_upload(OperationContext& ctx, ObjectStore& store) {
    const std::string upload_id = ctx.req.value("uploadId");
    auto doc = parse_xml(read_xml_body(ctx), "CompleteMultipartUpload");
    std::vector<PartInfo> parts;
    for (Poco::XML::Node* n = doc->documentElement()->firstChild(); n; n = n->nextSibling()) {
        if (n->nodeType() != Poco::XML::Node::ELEMENT_NODE || n->nodeName() != "Part") continue;
        auto* e = static_cast<Poco::XML::Element*>(n);
        PartInfo p;
        const std::string number = child(e, "PartNumber");
        char* end = nullptr;
        p.number = static_cast<int>(std::strtol(number.c_str(), &end, 10));
        if (number.empty() || *end || p.number < 1 || p.number > 10000) throw malformed_xml("bad PartNumber '" + number + "'");
        p.etag = child(e, "ETag");
        if (p.etag.empty()) throw malformed_xml("a Part without ETag");
        if (p.etag.front() != '"') p.etag = "\"" + p.etag + "\"";
        if (!parts.empty() && p.number <= parts.back().number)
            throw S3Error(400, "InvalidPartOrder",
                          "The list of parts was not in ascending order. Parts must be ordered by part number.");
        parts.push_back(p);
    }
    if (parts.empty()) throw malformed_xml("the upload must name at least one part");
    std::string etag = store.complete_upload(ctx.req.key, upload_id, parts);
    ctx.answered_by = "local";
    std::ostringstream out;
    out << kXmlHead << "<CompleteMultipartUploadResult" << kNs << '>';
    element(out, "Location", "http://" + ctx.req.header("Host") + ctx.req.raw_path);
    element(out, "Bucket", ctx.req.bucket);
    element(out, "Key", ctx.req.key);
    element(out, "ETag", etag);
    out << "</CompleteMultipartUploadResult>";
    send_xml(ctx.resp, 200, out.str());
}

void abort_multipart_upload(OperationContext& ctx, ObjectStore& store) {
    store.abort_upload(ctx.req.key, ctx.req.value("uploadId"));
    ctx.answered_by = "local";
    ctx.resp.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NO_CONTENT);
    ctx.resp.send();
}

void list_parts(OperationContext& ctx, ObjectStore& store) {
    const S3Request& req = ctx.req;
    const int marker = bounded_int(req, "part-number-marker", 0, 10000);
    const int max_parts = bounded_int(req, "max-parts", 1000, 1000);
    PartsPage page = store.list_parts(req.key, req.value("uploadId"), marker, max_parts);
    ctx.answered_by = "local";
    std::ostringstream out;
    out << kXmlHead << "<ListPartsResult" << kNs << '>';
    element(out, "Bucket", req.bucket);
    element(out, "Key", req.key);
    element(out, "UploadId", req.value("uploadId"));
    owner(out, "Initiator", ctx.who.user.account);
    owner(out, "Owner", ctx.who.user.account);
    element(out, "StorageClass", "STANDARD");
    element(out, "PartNumberMarker", std::to_string(marker));
    element(out, "NextPartNumberMarker",
            std::to_string(page.parts.empty() ? marker : page.parts.back().number));
    element(out, "MaxParts", std::to_string(max_parts));
    element(out, "IsTruncated", page.truncated ? "true" : "false");
    for (const auto& p : page.parts) {
        out << "<Part>";
        element(out, "PartNumber", std::to_string(p.number));
        element(out, "LastModified", iso8601(p.last_modified));
        element(out, "ETag", p.etag);
        element(out, "Size", std::to_string(p.size));
        out << "</Part>";
    }
    out << "</ListPartsResult>";
    send_xml(ctx.resp, 200, out.str());
}

void list_multipart_uploads(OperationContext& ctx, ObjectStore& store) {
    const S3Request& req = ctx.req;
    UploadsRequest r;
    r.prefix = req.value("prefix");
    r.delimiter = req.value("delimiter");
    r.key_marker = req.value("key-marker");
    r.upload_id_marker = req.value("upload-id-marker");
    r.max_uploads = bounded_int(req, "max-uploads", 1000, 1000);
    UploadsPage page = store.list_uploads(r);
    ctx.answered_by = "local";
    std::ostringstream out;
    out << kXmlHead << "<ListMultipartUploadsResult" << kNs << '>';
    element(out, "Bucket", req.bucket);
    element(out, "KeyMarker", r.key_marker);
    element(out, "UploadIdMarker", r.upload_id_marker);
    if (page.truncated) {
        element(out, "NextKeyMarker", page.next_key_marker);
        element(out, "NextUploadIdMarker", page.next_upload_id_marker);
    }
    element(out, "Prefix", r.prefix);
    if (!r.delimiter.empty()) element(out, "Delimiter", r.delimiter);
    element(out, "MaxUploads", std::to_string(r.max_uploads));
    element(out, "IsTruncated", page.truncated ? "true" : "false");
    for (const auto& u : page.uploads) {
        out << "<Upload>";
        element(out, "Key", u.key);
        element(out, "UploadId", u.upload_id);
        owner(out, "Initiator", ctx.who.user.account);
        owner(out, "Owner", ctx.who.user.account);
        element(out, "StorageClass", "STANDARD");
        element(out, "Initiated", iso8601(u.initiated));
        out << "</Upload>";
    }
    for (const auto& p : page.common_prefixes) {
        out << "<CommonPrefixes>";
        element(out, "Prefix", p);
        out << "</CommonPrefixes>";
    }
    out << "</ListMultipartUploadsResult>";
    send_xml(ctx.resp, 200, out.str());
}

void delete_objects(OperationContext& ctx, ObjectStore& store) {
    auto doc = parse_xml(read_xml_body(ctx), "Delete");
    Poco::XML::Element* root = doc->documentElement();
    const bool quiet = Poco::icompare(child(root, "Quiet"), "true") == 0;
    std::vector<std::string> keys;
    for (Poco::XML::Node* n = root->firstChild(); n; n = n->nextSibling())
        if (n->nodeType() == Poco::XML::Node::ELEMENT_NODE && n->nodeName() == "Object")
            keys.push_back(child(static_cast<Poco::XML::Element*>(n), "Key"));
    if (keys.empty()) throw malformed_xml("no Object to delete");
    if (keys.size() > 1000) throw malformed_xml("more than 1000 objects in one request");
    std::ostringstream out;
    out << kXmlHead << "<DeleteResult" << kNs << '>';
    for (const auto& key : keys) {
        try {
            if (key.empty() || key.size() > 1024) throw S3Error(400, "InvalidArgument", "invalid key length");
            store.remove(key);   // local copies only, as for DELETE
            if (!quiet) {
                out << "<Deleted>";
                element(out, "Key", key);
                out << "</Deleted>";
            }
        } catch (const S3Error& e) {
            out << "<Error>";
            element(out, "Key", key);
            element(out, "Code", e.code());
            element(out, "Message", e.what());
            out << "</Error>";
        }
    }
    out << "</DeleteResult>";
    ctx.answered_by = "local";
    send_xml(ctx.resp, 200, out.str());
}

}  // namespace cc
