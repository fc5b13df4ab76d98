#include "common/sigv4.h"

#include <algorithm>
#include <unordered_map>

#include "common/crypto.h"
#include "common/uri.h"

namespace cc::sigv4 {

namespace {

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool is_ws(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
    return s;
}

// Trims the ends and turns every run of spaces inside into a single space.
std::string trim_collapse(std::string_view v) {
    v = trim(v);
    std::string out;
    out.reserve(v.size());
    bool in_space = false;
    for (char c : v) {
        if (c == ' ') {
            if (!in_space) out.push_back(' ');
            in_space = true;
        } else {
            out.push_back(c);
            in_space = false;
        }
    }
    return out;
}

bool is_hex(std::string_view s) {
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    return true;
}

// Length of "Name=" if one of the three Authorization components starts at s[pos].
std::size_t component_key_at(std::string_view s, std::size_t pos) {
    for (std::string_view key : {std::string_view("Credential="), std::string_view("SignedHeaders="),
                                 std::string_view("Signature=")})
        if (s.substr(pos, key.size()) == key) return key.size();
    return 0;
}

}  // namespace

std::string canonical_uri_from_decoded_path(std::string_view decoded_path) {
    if (decoded_path.empty()) return "/";
    return uri_encode(decoded_path, true);
}

std::string canonical_query(std::vector<std::pair<std::string, std::string>> query) {
    for (auto& [name, value] : query) {
        name = uri_encode(name, false);
        value = uri_encode(value, false);
    }
    std::sort(query.begin(), query.end());
    std::string out;
    for (const auto& [name, value] : query) {
        if (!out.empty()) out.push_back('&');
        out += name;
        out.push_back('=');
        out += value;
    }
    return out;
}

std::string canonical_headers(const std::vector<std::pair<std::string, std::string>>& headers,
                              std::string& signed_headers) {
    std::vector<std::pair<std::string, std::string>> h;
    h.reserve(headers.size());
    for (const auto& [name, value] : headers)
        h.emplace_back(to_lower(trim(name)), trim_collapse(value));
    // Stable: several values of one header keep the order they were sent in.
    std::stable_sort(h.begin(), h.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out;
    signed_headers.clear();
    for (std::size_t i = 0; i < h.size();) {
        const std::string& name = h[i].first;
        out += name;
        out.push_back(':');
        out += h[i].second;
        std::size_t j = i + 1;
        for (; j < h.size() && h[j].first == name; ++j) {
            out.push_back(',');
            out += h[j].second;
        }
        out.push_back('\n');
        if (!signed_headers.empty()) signed_headers.push_back(';');
        signed_headers += name;
        i = j;
    }
    return out;
}

std::string canonical_request(const CanonicalInput& in) {
    std::string signed_headers;
    std::string headers = canonical_headers(in.headers, signed_headers);
    std::string out;
    out.reserve(256 + headers.size());
    out += in.method;
    out.push_back('\n');
    out += in.canonical_uri;
    out.push_back('\n');
    out += canonical_query(in.query);
    out.push_back('\n');
    out += headers;
    out.push_back('\n');
    out += signed_headers;
    out.push_back('\n');
    out += in.payload_hash;
    return out;
}

std::string scope(std::string_view day, std::string_view region, std::string_view service) {
    std::string out;
    out.reserve(day.size() + region.size() + service.size() + 16);
    out.append(day).append("/").append(region).append("/").append(service).append("/aws4_request");
    return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
    std::string out;
    out.append(kAlgorithm).append("\n");
    out.append(amz_date).append("\n");
    out.append(scope).append("\n");
    out.append(sha256_hex(canonical_request));
    return out;
}

std::string signing_key(std::string_view secret, std::string_view day, std::string_view region,
                        std::string_view service) {
    // The key changes once a day per (secret, region, service), yet every request
    // needs it twice (verifying the client, signing the backend request): four
    // HMACs saved each time. Per thread, so no lock; bounded, so no growth.
    thread_local std::unordered_map<std::string, std::string> cache;
    std::string id;
    id.reserve(secret.size() + day.size() + region.size() + service.size() + 3);
    id.append(secret).append(1, '\0').append(day).append(1, '\0').append(region).append(1, '\0').append(service);
    if (auto it = cache.find(id); it != cache.end()) return it->second;
    std::string k = "AWS4";
    k.append(secret);
    std::string k_date = hmac_sha256(k, day);
    std::string k_region = hmac_sha256(k_date, region);
    std::string k_service = hmac_sha256(k_region, service);
    std::string key = hmac_sha256(k_service, "aws4_request");
    if (cache.size() >= 256) cache.clear();
    cache.emplace(std::move(id), key);
    return key;
}

std::string signature_hex(std::string_view signing_key, std::string_view string_to_sign) {
    return to_hex(hmac_sha256(signing_key, string_to_sign));
}

std::string chunk_signature_hex(std::string_view signing_key, std::string_view amz_date,
                                std::string_view scope, std::string_view previous_signature,
                                std::string_view chunk_data) {
    return chunk_signature_from_hash(signing_key, amz_date, scope, previous_signature, sha256_hex(chunk_data));
}

std::string chunk_signature_from_hash(std::string_view signing_key, std::string_view amz_date,
                                      std::string_view scope, std::string_view previous_signature,
                                      std::string_view chunk_sha256_hex) {
    std::string sts = "AWS4-HMAC-SHA256-PAYLOAD\n";
    sts.append(amz_date).append("\n");
    sts.append(scope).append("\n");
    sts.append(previous_signature).append("\n");
    sts.append(kEmptySha256).append("\n");
    sts.append(chunk_sha256_hex);
    return signature_hex(signing_key, sts);
}

bool parse_credential(std::string_view credential, AuthorizationHeader& out) {
    // The last four '/'-separated fields are the scope; the access key is
    // everything before them and may itself contain '/'.
    std::string_view fields[4];
    std::string_view rest = credential;
    for (int k = 3; k >= 0; --k) {
        std::size_t slash = rest.rfind('/');
        if (slash == std::string_view::npos) return false;
        fields[k] = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
    }
    if (rest.empty()) return false;
    for (auto f : fields)
        if (f.empty()) return false;
    out.access_key = std::string(rest);
    out.day = std::string(fields[0]);
    out.region = std::string(fields[1]);
    out.service = std::string(fields[2]);
    out.terminal = std::string(fields[3]);
    return true;
}

bool parse_authorization(std::string_view header, AuthorizationHeader& out, std::string& why) {
    out = AuthorizationHeader{};
    std::string_view h = trim(header);
    if (h.substr(0, kAlgorithm.size()) != kAlgorithm) {
        why = "unsupported authorization type (expected AWS4-HMAC-SHA256)";
        return false;
    }
    h.remove_prefix(kAlgorithm.size());
    if (h.empty() || !is_ws(h.front())) {
        why = "missing space after AWS4-HMAC-SHA256";
        return false;
    }
    h = trim(h);

    bool have_credential = false, have_signed = false, have_signature = false;
    std::size_t pos = 0;
    while (pos < h.size()) {
        std::size_t keylen = component_key_at(h, pos);
        if (keylen == 0) {
            why = "malformed authorization component near '" + std::string(h.substr(pos, 20)) + "'";
            return false;
        }
        std::string_view key = h.substr(pos, keylen - 1);
        std::size_t value_start = pos + keylen;
        // The value runs to the next ',' that is followed (after optional
        // spaces) by another component name, so an access key may contain ','.
        std::size_t end = h.size(), next = h.size();
        for (std::size_t j = value_start; j < h.size(); ++j) {
            if (h[j] != ',') continue;
            std::size_t k = j + 1;
            while (k < h.size() && is_ws(h[k])) ++k;
            if (component_key_at(h, k)) {
                end = j;
                next = k;
                break;
            }
        }
        std::string_view value = trim(h.substr(value_start, end - value_start));
        pos = next;

        if (key == "Credential") {
            if (have_credential) { why = "duplicate Credential"; return false; }
            have_credential = true;
            if (!parse_credential(value, out)) {
                why = "malformed Credential '" + std::string(value) +
                      "' (expected access-key/date/region/service/aws4_request)";
                return false;
            }
        } else if (key == "SignedHeaders") {
            if (have_signed) { why = "duplicate SignedHeaders"; return false; }
            have_signed = true;
            if (value.empty()) { why = "empty SignedHeaders"; return false; }
            std::size_t p = 0;
            while (true) {
                std::size_t semi = value.find(';', p);
                std::string_view name =
                    value.substr(p, semi == std::string_view::npos ? std::string_view::npos : semi - p);
                if (name.empty()) { why = "empty name in SignedHeaders"; return false; }
                out.signed_headers.push_back(to_lower(name));
                if (semi == std::string_view::npos) break;
                p = semi + 1;
            }
        } else {
            if (have_signature) { why = "duplicate Signature"; return false; }
            have_signature = true;
            if (value.empty() || !is_hex(value)) {
                why = "Signature is not a hex string";
                return false;
            }
            out.signature = std::string(value);
        }
    }
    if (!have_credential) { why = "missing Credential"; return false; }
    if (!have_signed) { why = "missing SignedHeaders"; return false; }
    if (!have_signature) { why = "missing Signature"; return false; }
    return true;
}

}  // namespace cc::sigv4
