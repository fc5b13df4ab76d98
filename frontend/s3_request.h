// Step 1 of the request path: what the client asked for, parsed once.
#pragma once
#include <Poco/Net/HTTPServerRequest.h>

#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "common/uri.h"

namespace cc {

struct S3Request {
    Poco::Net::HTTPServerRequest* http = nullptr;
    std::string request_id;
    std::string method;
    std::string raw_path;           // exactly as sent, before '?'
    std::string raw_query;          // exactly as sent, after '?'
    std::vector<QueryParam> query;  // parsed raw_query
    std::string bucket, key;        // decoded
    bool virtual_hosted = false;    // the bucket came from the Host header
    bool body_consumed = false;     // set once the request body has been read to its end

    // The request body: every read of it goes through this one stream (frontend/body_stream.h).
    std::istream& body();
    // Whether body() was read to the end of the body (known for bodies with a Content-Length).
    bool body_read_to_end() const;
    bool body_opened() const { return body_ != nullptr; }

    const QueryParam* param(std::string_view name) const;
    bool has(std::string_view name) const { return param(name) != nullptr; }
    std::string value(std::string_view name) const;    // decoded, "" if absent
    std::string header(const std::string& name) const; // "" if absent
    bool has_header(const std::string& name) const;
    std::string resource() const;   // "/bucket/key" for error documents
    // The path SigV2 signs: "/bucket" + path for virtual-hosted requests, else the path.
    std::string sigv2_resource_path() const;

private:
    std::shared_ptr<std::istream> body_;
};

// Several different Content-Length headers, one that is not plain digits, or Content-Length with Transfer-Encoding.
bool ambiguous_framing(const Poco::Net::HTTPServerRequest& http);

// Throws S3Error: BadRequest (ambiguous framing), InvalidRequest (no Host), InvalidURI (bad percent-encoding, invalid UTF-8), KeyTooLongError.
// Virtual-hosted style ("bucket.<domain>[:port]") is recognised for the
// given storage domains; everything else is path style.
S3Request parse_request(Poco::Net::HTTPServerRequest& http, std::string request_id,
                        const std::vector<std::string>& storage_domains = {});

}  // namespace cc
