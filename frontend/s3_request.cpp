#include "frontend/s3_request.h"

#include <Poco/String.h>

#include "common/s3error.h"
#include "frontend/body_stream.h"

namespace cc {

constexpr std::size_t kMaxKeyBytes = 1024;

const QueryParam* S3Request::param(std::string_view name) const {
    for (const auto& p : query)
        if (p.name == name) return &p;
    return nullptr;
}

std::string S3Request::value(std::string_view name) const {
    const QueryParam* p = param(name);
    return p ? p->value : std::string();
}

std::string S3Request::header(const std::string& name) const { return http->get(name, ""); }
bool S3Request::has_header(const std::string& name) const { return http->has(name); }

std::istream& S3Request::body() {
    if (!body_) body_ = open_body_stream(*http);
    return *body_;
}

bool S3Request::body_read_to_end() const {
    return body_ && body_->rdbuf() && body_->rdbuf()->in_avail() == -1;   // "no more characters"
}

std::string S3Request::resource() const {
    if (bucket.empty()) return "/";
    return "/" + bucket + (key.empty() ? "" : "/" + key);
}

std::string S3Request::sigv2_resource_path() const {
    return virtual_hosted ? "/" + bucket + raw_path : raw_path;
}

namespace {
// "photos.s3.example.com:8081" with domain "s3.example.com" -> "photos".
std::string bucket_from_host(std::string host, const std::vector<std::string>& domains) {
    if (!host.empty() && host[0] == '[') return {};   // an IPv6 literal
    auto colon = host.rfind(':');
    if (colon != std::string::npos) host.erase(colon);
    for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& d : domains)
        if (host.size() > d.size() + 1 && host.compare(host.size() - d.size(), d.size(), d) == 0 &&
            host[host.size() - d.size() - 1] == '.')
            return host.substr(0, host.size() - d.size() - 1);
    return {};
}
}  // namespace

bool ambiguous_framing(const Poco::Net::HTTPServerRequest& http) {
    std::string length;
    int lengths = 0;
    for (const auto& [name, value] : http) {
        if (Poco::icompare(name, "Content-Length") != 0) continue;
        if (lengths++ && value != length) return true;   // two different lengths
        length = value;
        // Not plain digits ("-5", "+5", "0x10"): where the body ends is a matter of
        // reading, and a proxy in front may read it otherwise.
        const std::string digits = Poco::trim(value);
        if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return true;
    }
    // A transfer coding other than plain "chunked" (gzip, "gzip, chunked", identity, or
    // several fields): Poco reads no body then, while a proxy in front may read one
    // (RFC 9112 section 6.3: the length cannot be determined reliably).
    int codings = 0;
    for (const auto& [name, value] : http) {
        if (Poco::icompare(name, "Transfer-Encoding") != 0) continue;
        if (codings++ || Poco::icompare(Poco::trim(value), "chunked") != 0) return true;
    }
    return lengths > 0 && codings > 0;
}

S3Request parse_request(Poco::Net::HTTPServerRequest& http, std::string request_id,
                        const std::vector<std::string>& storage_domains) {
    // Where one request's body ends must be beyond doubt, or the bytes after it
    // could be read as another request (smuggling): refuse, and the connection closes.
    if (ambiguous_framing(http))
        throw S3Error(400, "BadRequest",
                      "The request's length is ambiguous: several different Content-Length headers, a "
                      "Content-Length that is not plain digits, Content-Length together with Transfer-Encoding, "
                      "or a Transfer-Encoding other than chunked");
    // The version first: a Host header is a rule of HTTP/1.1, not of versions we do not speak.
    if (http.getVersion() != Poco::Net::HTTPMessage::HTTP_1_1 && http.getVersion() != Poco::Net::HTTPMessage::HTTP_1_0)
        throw S3Error(505, "HttpVersionNotSupported", "Only HTTP/1.0 and HTTP/1.1 are supported, not " + http.getVersion());
    if (!http.has("Host")) throw S3Error(400, "InvalidRequest", "The request has no Host header");
    S3Request r;
    r.http = &http;
    r.request_id = std::move(request_id);
    r.method = http.getMethod();
    const std::string& uri = http.getURI();
    auto q = uri.find('?');
    r.raw_path = uri.substr(0, q);
    if (q != std::string::npos) r.raw_query = uri.substr(q + 1);

    auto bad_uri = [&](const std::string& why) {
        S3Error e(400, "InvalidURI", "Couldn't parse the specified URI: " + why);
        throw e;
    };
    if (r.raw_path.empty() || r.raw_path[0] != '/') bad_uri("the path must start with '/'");
    if (!parse_query(r.raw_query, r.query)) bad_uri("invalid percent-encoding in the query string");
    std::string path;
    if (!percent_decode(r.raw_path, path)) bad_uri("invalid percent-encoding in the path");
    if (!is_valid_utf8(path)) bad_uri("the path is not valid UTF-8");
    // NUL cannot appear in an XML listing (XML 1.0 has no way to write it).
    if (path.find('\0') != std::string::npos) bad_uri("the path contains a NUL character (%00)");
    for (const auto& p : r.query)
        if (!is_valid_utf8(p.value) || !is_valid_utf8(p.name)) bad_uri("the query string is not valid UTF-8");

    r.bucket = bucket_from_host(http.getHost(), storage_domains);
    if (!r.bucket.empty()) {
        r.virtual_hosted = true;        // bucket.domain/key...
        r.key = path.substr(1);
    } else {                            // path style: /bucket/key...
        auto slash = path.find('/', 1);
        r.bucket = path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
        if (slash != std::string::npos) r.key = path.substr(slash + 1);
    }
    if (r.key.size() > kMaxKeyBytes) {
        S3Error e(400, "KeyTooLongError", "Your key is too long: " + std::to_string(r.key.size()) +
                                              " bytes, the maximum is 1024");
        throw e;
    }
    return r;
}

}  // namespace cc
