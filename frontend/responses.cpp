#include "frontend/responses.h"

#include <sstream>

#include "common/timefmt.h"
#include "common/uri.h"
#include "common/xml_escape.h"

namespace cc {
namespace {
constexpr const char* kXmlHeader = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
constexpr const char* kNs = " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";

void element(std::ostringstream& out, const char* name, const std::string& text) {
    out << '<' << name << '>' << xml_escape(text) << "</" << name << '>';
}
}  // namespace

void send_xml(Poco::Net::HTTPServerResponse& resp, int status, const std::string& xml) {
    resp.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    resp.setContentType("application/xml");
    resp.setContentLength64(static_cast<Poco::Int64>(xml.size()));
    resp.send().write(xml.data(), static_cast<std::streamsize>(xml.size()));
}

void send_error(Poco::Net::HTTPServerResponse& resp, const S3Error& err, const std::string& request_id,
                const std::string& resource, bool head_request) {
    std::ostringstream out;
    out << kXmlHeader << "<Error>";
    element(out, "Code", err.code());
    element(out, "Message", err.what());
    if (!err.detail_name.empty()) element(out, err.detail_name.c_str(), err.detail_value);
    element(out, "Resource", resource);
    element(out, "RequestId", request_id);
    element(out, "HostId", resp.get("x-amz-id-2", ""));
    out << "</Error>";
    if (head_request) {
        // HEAD answers carry no body; the code travels in a header for debugging.
        resp.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(err.status()));
        resp.set("x-amz-error-code", err.code());
        resp.setContentLength(0);
        resp.send();
        return;
    }
    send_xml(resp, err.status(), out.str());
}

std::string list_objects_xml(const ListingParams& p, const ListPage& page) {
    const bool url = p.encoding_type == "url";
    auto enc = [&](const std::string& s) { return url ? uri_encode(s, /*keep_slash=*/true) : s; };
    std::ostringstream out;
    out << kXmlHeader << "<ListBucketResult" << kNs << '>';
    element(out, "Name", p.bucket);
    element(out, "Prefix", enc(p.prefix));
    if (p.v2) {
        if (!p.start_after.empty()) element(out, "StartAfter", enc(p.start_after));
        if (!p.continuation_token.empty()) element(out, "ContinuationToken", p.continuation_token);
        if (page.truncated) element(out, "NextContinuationToken", p.next_continuation_token);
        element(out, "KeyCount", std::to_string(page.entries.size()));
    } else {
        element(out, "Marker", enc(p.marker));
        // AWS sends NextMarker only with a delimiter; clients use the last key otherwise.
        if (page.truncated && !p.delimiter.empty()) element(out, "NextMarker", enc(page.next_marker));
    }
    element(out, "MaxKeys", std::to_string(p.max_keys));
    if (!p.delimiter.empty()) element(out, "Delimiter", enc(p.delimiter));
    if (url) element(out, "EncodingType", "url");
    element(out, "IsTruncated", page.truncated ? "true" : "false");
    for (const auto& e : page.entries) {
        if (e.is_prefix) continue;
        out << "<Contents>";
        element(out, "Key", enc(e.info.key));
        element(out, "LastModified", iso8601(e.info.last_modified));
        element(out, "ETag", e.info.etag);
        element(out, "Size", std::to_string(e.info.size));
        if (!p.v2 || p.fetch_owner) {
            out << "<Owner>";
            element(out, "ID", p.owner);
            element(out, "DisplayName", p.owner);
            out << "</Owner>";
        }
        element(out, "StorageClass", "STANDARD");
        out << "</Contents>";
    }
    for (const auto& e : page.entries) {
        if (!e.is_prefix) continue;
        out << "<CommonPrefixes>";
        element(out, "Prefix", enc(e.info.key));
        out << "</CommonPrefixes>";
    }
    out << "</ListBucketResult>";
    return out.str();
}

std::string list_buckets_xml(const std::string& owner, const std::vector<S3Store::Bucket>& buckets) {
    std::ostringstream out;
    out << kXmlHeader << "<ListAllMyBucketsResult" << kNs << "><Owner>";
    element(out, "ID", owner);
    element(out, "DisplayName", owner);
    out << "</Owner><Buckets>";
    for (const auto& b : buckets) {
        out << "<Bucket>";
        element(out, "Name", b.name);
        element(out, "CreationDate", iso8601(b.created));
        out << "</Bucket>";
    }
    out << "</Buckets></ListAllMyBucketsResult>";
    return out.str();
}

std::string copy_result_xml(const std::string& etag, std::time_t last_modified) {
    std::ostringstream out;
    out << kXmlHeader << "<CopyObjectResult" << kNs << '>';
    element(out, "LastModified", iso8601(last_modified));
    element(out, "ETag", etag);
    out << "</CopyObjectResult>";
    return out.str();
}

std::string location_xml(const std::string& region) {
    std::ostringstream out;
    // us-east-1 is spelled as an empty constraint, as AWS does.
    out << kXmlHeader << "<LocationConstraint" << kNs << '>' << xml_escape(region == "us-east-1" ? "" : region)
        << "</LocationConstraint>";
    return out.str();
}

}  // namespace cc
