// Step 2 of the request path: who is asking. Verifies SigV4 (header and
// presigned query) and SigV2 (header and query) against the user database,
// comparing signatures in constant time.
#pragma once
#include <ctime>
#include <string>

#include "engine/settings.h"
#include "engine/users.h"
#include "frontend/s3_request.h"

namespace cc {

struct Identity {
    User user;                      // a copy: the snapshot may be swapped while we stream
    std::string payload_hash;       // SigV4 header auth: x-amz-content-sha256 as sent; else UNSIGNED-PAYLOAD
    // For STREAMING-AWS4-HMAC-SHA256-PAYLOAD chunk verification:
    std::string signing_key, scope, amz_date, seed_signature;
};

// Throws S3Error: AccessDenied (anonymous, expired), InvalidAccessKeyId,
// SignatureDoesNotMatch, RequestTimeTooSkewed, AuthorizationHeaderMalformed,
// AuthorizationQueryParametersError, MissingSecurityHeader.
Identity authenticate(const S3Request& req, const UserDb& users, const Settings& settings, std::time_t now);

}  // namespace cc
