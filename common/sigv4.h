// AWS Signature Version 4: one implementation for both directions. The
// frontend rebuilds the canonical request a client signed and compares
// signatures; the storage layer builds the same thing to sign its own
// backend requests. Reference: AWS "Signature Version 4 signing process" and
// "Authenticating Requests (AWS Signature Version 4)" for S3.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cc::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct CanonicalInput {
    std::string method;                 // "GET"
    std::string canonical_uri;          // already encoded as it must appear (see below)
    // Query parameters, decoded; canonical_query() encodes and sorts them.
    std::vector<std::pair<std::string, std::string>> query;
    // Headers to sign: names any case, values as sent; canonical_headers()
    // lower-cases names, trims values and collapses inner runs of spaces.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string payload_hash;           // hex sha256, UNSIGNED-PAYLOAD, or STREAMING-...
};

// S3 signs the path exactly as sent on the wire, without re-normalising it.
// For a decoded path (as the signer of a backend request holds it) this
// returns the S3 canonical form: every byte URI-encoded except '/'.
std::string canonical_uri_from_decoded_path(std::string_view decoded_path);

std::string canonical_query(std::vector<std::pair<std::string, std::string>> query);
// Returns "name:value\n..." and sets signed_headers to "name;name2".
std::string canonical_headers(const std::vector<std::pair<std::string, std::string>>& headers,
                              std::string& signed_headers);
std::string canonical_request(const CanonicalInput& in);

// "20130524/us-east-1/s3/aws4_request"
std::string scope(std::string_view day, std::string_view region, std::string_view service);
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);
// Raw 32-byte signing key; callers may cache it per (secret, day, region, service).
std::string signing_key(std::string_view secret, std::string_view day,
                        std::string_view region, std::string_view service);
std::string signature_hex(std::string_view signing_key, std::string_view string_to_sign);

// Signature of one chunk of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body.
std::string chunk_signature_hex(std::string_view signing_key, std::string_view amz_date,
                                std::string_view scope, std::string_view previous_signature,
                                std::string_view chunk_data);
// The same, from the chunk's SHA-256 (hex), for chunks hashed as they stream.
std::string chunk_signature_from_hash(std::string_view signing_key, std::string_view amz_date,
                                      std::string_view scope, std::string_view previous_signature,
                                      std::string_view chunk_sha256_hex);

// Parsed "AWS4-HMAC-SHA256 Credential=AK/day/region/s3/aws4_request,
// SignedHeaders=a;b, Signature=hex". The access key may itself contain '/'
// (the last four '/'-separated fields are the scope).
struct AuthorizationHeader {
    std::string access_key, day, region, service, terminal;
    std::vector<std::string> signed_headers;   // lower-case, as listed
    std::string signature;                      // hex
};
// Returns false (and a reason) when the header is malformed.
bool parse_authorization(std::string_view header, AuthorizationHeader& out, std::string& why);

// Splits a query-string credential "AK/day/region/s3/aws4_request" (already decoded).
bool parse_credential(std::string_view credential, AuthorizationHeader& out);

}  // namespace cc::sigv4
