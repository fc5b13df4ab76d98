// Step 5 of the request path: S3's answers. Error documents and the XML
// bodies of listings and copy results.
#pragma once
#include <Poco/Net/HTTPServerResponse.h>

#include <string>
#include <vector>

#include "common/s3error.h"
#include "storage/object_store.h"
#include "storage/s3_store.h"

namespace cc {

// Sends an S3 error document (no body for HEAD requests).
void send_error(Poco::Net::HTTPServerResponse& resp, const S3Error& err, const std::string& request_id,
                const std::string& resource, bool head_request);
void send_xml(Poco::Net::HTTPServerResponse& resp, int status, const std::string& xml);

struct ListingParams {
    std::string bucket, prefix, delimiter, marker, encoding_type, owner;
    int max_keys = 1000;
    bool v2 = false, fetch_owner = false;
    std::string start_after, continuation_token, next_continuation_token;
};
std::string list_objects_xml(const ListingParams& p, const ListPage& page);
std::string list_buckets_xml(const std::string& owner, const std::vector<S3Store::Bucket>& buckets);
std::string copy_result_xml(const std::string& etag, std::time_t last_modified);
std::string location_xml(const std::string& region);

}  // namespace cc
