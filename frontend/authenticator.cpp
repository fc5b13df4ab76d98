#include "frontend/authenticator.h"

#include <Poco/String.h>

#include <algorithm>
#include <cstdlib>

#include "common/crypto.h"
#include "common/s3error.h"
#include "common/sigv2.h"
#include "common/sigv4.h"
#include "common/timefmt.h"

namespace cc {
namespace {

S3Error access_denied(const std::string& msg) { return S3Error(403, "AccessDenied", msg); }
S3Error signature_mismatch() {
    return S3Error(403, "SignatureDoesNotMatch",
                   "The request signature we calculated does not match the signature you provided. "
                   "Check your key and signing method.");
}
S3Error unknown_key() {
    return S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
}
S3Error query_error(const std::string& msg) { return S3Error(400, "AuthorizationQueryParametersError", msg); }
S3Error header_malformed(const std::string& msg) { return S3Error(400, "AuthorizationHeaderMalformed", msg); }

// All values of a header, joined with ',' as SigV4 canonicalisation requires.
std::string header_values(const S3Request& req, const std::string& name) {
    std::string out;
    bool first = true;
    for (auto it = req.http->find(name); it != req.http->end() && Poco::icompare(it->first, name) == 0; ++it) {
        if (!first) out += ',';
        out += it->second;
        first = false;
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> all_headers(const S3Request& req) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [k, v] : *req.http) out.emplace_back(k, v);
    return out;
}

// Query parameters decoded for canonicalisation ('+' stays '+': SigV4 clients
// encode a literal '+' as %2B and a space as %20).
std::vector<std::pair<std::string, std::string>> canonical_params(const S3Request& req, std::string_view skip) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& p : req.query) {
        if (p.name == skip) continue;
        std::string n, v;
        percent_decode(p.raw_name, n);
        percent_decode(p.raw_value, v);
        out.emplace_back(std::move(n), std::move(v));
    }
    return out;
}

std::time_t request_time(const S3Request& req, std::string& amz_date_out) {
    std::string amz = req.header("x-amz-date");
    if (!amz.empty()) {
        auto t = parse_amz_date(amz);
        if (!t) t = parse_http_date(amz);   // SigV2 clients may send an HTTP date here
        if (!t) throw access_denied("x-amz-date is not a valid date: " + amz);
        amz_date_out = amz;
        return *t;
    }
    std::string date = req.header("Date");
    if (date.empty()) throw access_denied("AWS authentication requires a valid Date or x-amz-date header");
    auto t = parse_http_date(date);
    if (!t) throw access_denied("Date is not a valid HTTP date: " + date);
    amz_date_out = amz_date(*t);
    return *t;
}

void check_skew(std::time_t t, std::time_t now, const Settings& s) {
    if (std::llabs(static_cast<long long>(t) - static_cast<long long>(now)) > s.max_skew_seconds)
        throw S3Error(403, "RequestTimeTooSkewed",
                      "The difference between the request time (" + iso8601(t) + ") and the server's time (" +
                          iso8601(now) + ") is larger than " + std::to_string(s.max_skew_seconds) + " seconds.");
}

const User& find_user(const UserDb& users, const std::string& access_key) {
    const User* u = users.find(access_key);
    if (!u) throw unknown_key();
    return *u;
}

// Checks the SigV4 signature over the canonical request. S3 signs the path
// exactly as sent; a client that sent a character raw but signed it encoded
// (or the reverse) is accepted through the re-encoded form too.
// As S3: the Host header and every x-amz-* header sent must be signed. An
// unsigned x-amz-meta-* or x-amz-copy-source would otherwise change what a
// validly signed request does.
void check_signed_headers(const S3Request& req, const std::vector<std::string>& signed_headers) {
    auto is_signed = [&](const std::string& name) {
        return std::find(signed_headers.begin(), signed_headers.end(), name) != signed_headers.end();
    };
    if (!is_signed("host")) throw access_denied("The Host header must be signed (it is not in SignedHeaders)");
    if (!req.http) return;
    for (const auto& [name, value] : *req.http) {
        const std::string lower = Poco::toLower(name);
        if (lower.rfind("x-amz-", 0) == 0 && !is_signed(lower))
            throw access_denied("There were headers present in the request which were not signed: " + lower);
    }
}

void verify_v4(const S3Request& req, const sigv4::AuthorizationHeader& auth, const User& user,
               const std::string& amz_date, const std::string& payload_hash,
               std::vector<std::pair<std::string, std::string>> query, Identity& id) {
    check_signed_headers(req, auth.signed_headers);
    sigv4::CanonicalInput in;
    in.method = req.method;
    in.query = std::move(query);
    in.payload_hash = payload_hash;
    for (const auto& name : auth.signed_headers) in.headers.emplace_back(name, header_values(req, name));

    const std::string scope = sigv4::scope(auth.day, auth.region, auth.service);
    const std::string key = sigv4::signing_key(user.secret_key, auth.day, auth.region, auth.service);
    std::string decoded_path;
    percent_decode(req.raw_path, decoded_path);
    for (const std::string& uri : {req.raw_path, sigv4::canonical_uri_from_decoded_path(decoded_path)}) {
        in.canonical_uri = uri;
        std::string sig = sigv4::signature_hex(key, sigv4::string_to_sign(amz_date, scope, sigv4::canonical_request(in)));
        if (constant_time_equal(sig, auth.signature)) {
            id.user = user;
            id.signing_key = key;
            id.scope = scope;
            id.amz_date = amz_date;
            id.seed_signature = auth.signature;
            id.payload_hash = payload_hash;
            return;
        }
    }
    throw signature_mismatch();
}

void check_scope(const sigv4::AuthorizationHeader& a, const std::string& amz_date, bool query) {
    auto bad = [&](const std::string& m) { return query ? query_error(m) : header_malformed(m); };
    if (a.terminal != "aws4_request") throw bad("the credential scope must end in aws4_request");
    if (a.service != "s3") throw bad("the credential scope's service must be s3, not '" + a.service + "'");
    if (amz_date.compare(0, 8, a.day) != 0)
        throw bad("Invalid credential date. Date is not the same as X-Amz-Date.");
}

Identity v4_header(const S3Request& req, const UserDb& users, const Settings& s, std::time_t now) {
    sigv4::AuthorizationHeader auth;
    std::string why;
    if (!sigv4::parse_authorization(req.header("Authorization"), auth, why))
        throw header_malformed("The authorization header is malformed: " + why);
    const User& user = find_user(users, auth.access_key);
    std::string amz_date;
    std::time_t t = request_time(req, amz_date);
    check_skew(t, now, s);
    check_scope(auth, amz_date, false);
    std::string payload = req.header("x-amz-content-sha256");
    if (payload.empty())
        throw invalid_request("Missing required header for this request: x-amz-content-sha256");
    const bool hex_digest = payload.size() == 64 && payload.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
    if (!hex_digest && payload != "UNSIGNED-PAYLOAD" && payload.rfind("STREAMING-", 0) != 0)
        throw S3Error(400, "InvalidArgument",
                      "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* payload type or a SHA-256 hex digest");
    Identity id;
    verify_v4(req, auth, user, amz_date, payload, canonical_params(req, ""), id);
    return id;
}

Identity v4_query(const S3Request& req, const UserDb& users, const Settings& s, std::time_t now) {
    if (req.value("X-Amz-Algorithm") != sigv4::kAlgorithm)
        throw query_error("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
    for (const char* p : {"X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"})
        if (!req.has(p))
            throw query_error(std::string("Query-string authentication requires the ") + p + " parameter");
    sigv4::AuthorizationHeader auth;
    if (!sigv4::parse_credential(req.value("X-Amz-Credential"), auth))
        throw query_error("X-Amz-Credential is malformed: " + req.value("X-Amz-Credential"));
    std::string sh = req.value("X-Amz-SignedHeaders");
    for (std::size_t pos = 0; pos <= sh.size();) {
        auto semi = sh.find(';', pos);
        if (semi == std::string::npos) semi = sh.size();
        if (semi > pos) auth.signed_headers.push_back(Poco::toLower(sh.substr(pos, semi - pos)));
        pos = semi + 1;
    }
    auth.signature = req.value("X-Amz-Signature");
    const User& user = find_user(users, auth.access_key);
    const std::string amz_date = req.value("X-Amz-Date");
    auto t = parse_amz_date(amz_date);
    if (!t) throw query_error("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
    char* end = nullptr;
    const std::string expires_text = req.value("X-Amz-Expires");
    long long expires = std::strtoll(expires_text.c_str(), &end, 10);
    if (expires_text.empty() || *end)
        throw query_error("X-Amz-Expires should be a number");
    if (expires < 0)
        throw query_error("X-Amz-Expires must be non-negative");
    if (expires > 604800)
        throw query_error("X-Amz-Expires must be less than a week (in seconds) that is; 604800");
    check_scope(auth, amz_date, true);
    if (*t - now > s.max_skew_seconds) throw access_denied("Request is not valid yet");
    if (now > *t + expires) throw access_denied("Request has expired");
    std::string payload = req.header("x-amz-content-sha256");
    if (payload.empty()) payload = sigv4::kUnsignedPayload;
    Identity id;
    verify_v4(req, auth, user, amz_date, payload, canonical_params(req, "X-Amz-Signature"), id);
    return id;
}

Identity v2(const S3Request& req, const UserDb& users, const Settings& s, std::time_t now, bool query) {
    std::string access_key, signature;
    sigv2::Input in;
    in.method = req.method;
    in.content_md5 = req.header("Content-MD5");
    in.content_type = req.header("Content-Type");
    in.headers = all_headers(req);
    in.resource_path = req.sigv2_resource_path();
    in.query_auth = query;
    for (const auto& p : req.query) {
        std::string n, v;
        percent_decode(p.raw_name, n);
        percent_decode(p.raw_value, v);
        in.query.emplace_back(n, v);
    }
    if (query) {
        access_key = req.value("AWSAccessKeyId");
        signature = req.value("Signature");
        const std::string expires_text = req.value("Expires");
        char* end = nullptr;
        long long expires = std::strtoll(expires_text.c_str(), &end, 10);
        if (expires_text.empty() || *end) throw access_denied("Query-string authentication requires Expires");
        find_user(users, access_key);
        if (now > expires) throw access_denied("Request has expired");
        in.date = expires_text;
    } else {
        std::string h = req.header("Authorization").substr(4);   // after "AWS "
        auto colon = h.rfind(':');   // access keys may contain ':' ("test:tester"); signatures never do
        if (colon == std::string::npos || colon == 0)
            throw invalid_request("The authorization header is malformed: expected \"AWS AccessKeyId:Signature\"");
        access_key = h.substr(0, colon);
        signature = h.substr(colon + 1);
        find_user(users, access_key);
        std::string ignored;
        check_skew(request_time(req, ignored), now, s);
        in.date = req.header("Date");
    }
    const User& user = find_user(users, access_key);
    // The resource as S3 defines it, then the forms botocore's SigV2 signer uses
    // for path-style bucket requests (boto/boto3#4433): "/bucket/" for a request
    // sent as "/bucket", and the operation's literal "?list-type=2" for ListObjectsV2.
    std::vector<std::string> resources{in.resource_path};
    if (req.key.empty() && !in.resource_path.empty() && in.resource_path.back() != '/') {
        resources.push_back(in.resource_path + "/");
        if (req.value("list-type") == "2") resources.push_back(in.resource_path + "?list-type=2");
    }
    bool ok = false;
    for (const auto& resource : resources) {
        in.resource_path = resource;
        ok = constant_time_equal(sigv2::signature_base64(user.secret_key, sigv2::string_to_sign(in)), signature);
        if (ok) break;
    }
    if (!ok) throw signature_mismatch();
    Identity id;
    id.user = user;
    id.payload_hash = sigv4::kUnsignedPayload;
    return id;
}

}  // namespace

Identity authenticate(const S3Request& req, const UserDb& users, const Settings& settings, std::time_t now) {
    const std::string authz = req.header("Authorization");
    if (authz.rfind("AWS4-HMAC-SHA256", 0) == 0) return v4_header(req, users, settings, now);
    if (authz.rfind("AWS ", 0) == 0) return v2(req, users, settings, now, false);
    if (!authz.empty())
        throw invalid_request("Unsupported Authorization type: only AWS4-HMAC-SHA256 and AWS (Signature V2) are accepted");
    if (req.has("X-Amz-Algorithm") || req.has("X-Amz-Credential")) return v4_query(req, users, settings, now);
    if (req.has("AWSAccessKeyId") && req.has("Signature")) return v2(req, users, settings, now, true);
    throw access_denied("Anonymous access is not allowed: sign the request with credentials from the user database");
}

}  // namespace cc
