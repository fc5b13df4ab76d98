// Step 1 of the request path: what the client asked for, parsed once.
#pragma once
#include <Poco/Net/HTTPServerRequest.h>

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
    std::string bucket, key;        // decoded (path-style addressing)
    bool body_consumed = false;     // set once the request body has been read to its end

    const QueryParam* param(std::string_view name) const;
    bool has(std::string_view name) const { return param(name) != nullptr; }
    std::string value(std::string_view name) const;    // decoded, "" if absent
    std::string header(const std::string& name) const; // "" if absent
    bool has_header(const std::string& name) const;
    std::string resource() const;   // "/bucket/key" for error documents
};

// Throws S3Error: InvalidURI (bad percent-encoding, invalid UTF-8), KeyTooLongError.
S3Request parse_request(Poco::Net::HTTPServerRequest& http, std::string request_id);

}  // namespace cc
