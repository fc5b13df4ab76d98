// cc-bench: a small S3 load generator for the benchmarks (test/bench,
// docs/benchmarks.md). N threads, each with its own libcurl easy handle and
// keep-alive connection, send SigV4-signed GET / PUT / ListObjectsV2
// requests (signed with the project's own common/sigv4) for a duration or a
// number of requests, and report req/s, MB/s (10^6 bytes) and latency
// percentiles, as text or as one JSON object (--json).
#include <CLI/CLI.hpp>
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "common/sigv4.h"
#include "common/timefmt.h"
#include "common/uri.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    std::string endpoint = "http://127.0.0.1:8081";
    std::string bucket;
    std::string key;
    std::string keys_file;
    std::string key_prefix;
    long count = 0;
    long index_start = 0;
    long index_step = 1;
    int key_width = 6;
    std::string access_key = "test:tester";
    std::string secret_key = "testing";
    std::string region = "us-east-1";
    std::string op = "get";
    long long size = 4096;
    int concurrency = 1;
    double duration = 0;
    long requests = 0;
    std::string list_prefix;
    int max_keys = 1000;
    bool json = false;
    bool no_sign = false;
    bool sign_payload = false;
    long long expect_bytes = -1;
    std::vector<std::string> capture_headers;
    std::string latencies_file;
    long timeout = 300;
};

// One signer per thread: the signing key only changes with the day.
class Signer {
public:
    explicit Signer(const Options& o) : o_(o) {}
    // Adds x-amz-date, x-amz-content-sha256 and Authorization for this request.
    void sign(const std::string& method, const std::string& canonical_uri,
              const std::vector<std::pair<std::string, std::string>>& query, const std::string& host,
              const std::string& payload_hash, std::vector<std::string>& out_headers) {
        const std::time_t now = std::time(nullptr);
        const std::string date = cc::amz_date(now);
        const std::string day = date.substr(0, 8);
        if (day != day_) {
            day_ = day;
            key_ = cc::sigv4::signing_key(o_.secret_key, day_, o_.region, "s3");
        }
        std::vector<std::pair<std::string, std::string>> headers{
            {"host", host}, {"x-amz-content-sha256", payload_hash}, {"x-amz-date", date}};
        cc::sigv4::CanonicalInput in{method, canonical_uri, query, headers, payload_hash};
        std::string signed_headers;
        cc::sigv4::canonical_headers(headers, signed_headers);
        const std::string scope = cc::sigv4::scope(day_, o_.region, "s3");
        const std::string sig =
            cc::sigv4::signature_hex(key_, cc::sigv4::string_to_sign(date, scope, cc::sigv4::canonical_request(in)));
        out_headers.push_back("x-amz-date: " + date);
        out_headers.push_back("x-amz-content-sha256: " + payload_hash);
        out_headers.push_back("Authorization: " + std::string(cc::sigv4::kAlgorithm) + " Credential=" +
                              o_.access_key + "/" + scope + ", SignedHeaders=" + signed_headers +
                              ", Signature=" + sig);
    }
private:
    const Options& o_;
    std::string day_, key_;
};

struct Result {
    std::vector<std::uint32_t> latencies_us;
    long long bytes = 0;
    long errors = 0;
    std::map<long, long> statuses;               // HTTP status (0 = transport error) -> count
    std::map<std::string, long> captured;        // "name: value" -> count
    std::string error_sample;
};

struct Transfer {
    const Options* o = nullptr;
    // download side
    long long received = 0;
    std::string small_body;                       // first bytes of an error body
    long status = 0;
    std::vector<std::string> captured;
    // upload side
    const std::string* upload = nullptr;
    std::size_t upload_pos = 0;
};

std::size_t on_write(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t len = size * n;
    t->received += static_cast<long long>(len);
    if (t->small_body.size() < 512) t->small_body.append(data, std::min<std::size_t>(len, 512 - t->small_body.size()));
    return len;
}

std::size_t on_read(char* buf, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t left = t->upload->size() - t->upload_pos;
    const std::size_t len = std::min(left, size * n);
    std::memcpy(buf, t->upload->data() + t->upload_pos, len);
    t->upload_pos += len;
    return len;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t len = size * n;
    std::string line(data, len);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        for (const auto& want : t->o->capture_headers) {
            if (name == want) {
                std::size_t v = colon + 1;
                while (v < line.size() && line[v] == ' ') ++v;
                t->captured.push_back(name + ": " + line.substr(v));
            }
        }
    }
    return len;
}

std::string host_of(const std::string& endpoint) {
    auto s = endpoint.find("://");
    std::string rest = s == std::string::npos ? endpoint : endpoint.substr(s + 3);
    return rest.substr(0, rest.find('/'));
}

std::string key_at(const Options& o, const std::vector<std::string>& keys, long i) {
    if (!keys.empty()) return keys[static_cast<std::size_t>(i) % keys.size()];
    if (!o.key_prefix.empty() || o.count > 0) {
        const long n = o.count > 0 ? i % o.count : i;
        char num[32];
        std::snprintf(num, sizeof num, "%0*ld", o.key_width, o.index_start + n * o.index_step);
        return o.key_prefix + num;
    }
    return o.key;
}

void worker(const Options& o, const std::vector<std::string>& keys, const std::string& upload,
            std::atomic<long>& next, Clock::time_point deadline, Result& r) {
    CURL* c = curl_easy_init();
    Signer signer(o);
    const std::string host = host_of(o.endpoint);
    Transfer t;
    t.o = &o;
    std::string upload_hash;
    if (o.op == "put") upload_hash = o.sign_payload ? cc::sha256_hex(upload) : std::string(cc::sigv4::kUnsignedPayload);
    for (;;) {
        const long i = next.fetch_add(1);
        if (o.requests > 0 && i >= o.requests) break;
        if (o.duration > 0 && Clock::now() >= deadline) break;

        std::string method = o.op == "put" ? "PUT" : "GET";
        std::string path = "/" + cc::uri_encode(o.bucket);
        std::vector<std::pair<std::string, std::string>> query;
        if (o.op == "list") {
            query = {{"list-type", "2"}, {"max-keys", std::to_string(o.max_keys)}};
            if (!o.list_prefix.empty()) query.emplace_back("prefix", o.list_prefix);
        } else {
            path += "/" + cc::uri_encode(key_at(o, keys, i), /*keep_slash=*/true);
        }
        std::string url = o.endpoint + path;
        if (!query.empty()) url += "?" + cc::sigv4::canonical_query(query);

        std::vector<std::string> hdrs;
        if (!o.no_sign)
            signer.sign(method, path, query, host,
                        o.op == "put" ? upload_hash : std::string(cc::sigv4::kEmptySha256), hdrs);
        hdrs.push_back("Expect:");   // no 100-continue round trip, for either target
        curl_slist* list = nullptr;
        for (const auto& h : hdrs) list = curl_slist_append(list, h.c_str());

        curl_easy_reset(c);        // keeps the connection cache
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, o.timeout);
        curl_easy_setopt(c, CURLOPT_PROXY, "");
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
        if (o.op == "put") {
            curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(upload.size()));
            curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, &t);
            t.upload = &upload;
            t.upload_pos = 0;
        }
        t.received = 0;
        t.small_body.clear();
        t.captured.clear();

        const auto start = Clock::now();
        const CURLcode rc = curl_easy_perform(c);
        const auto end = Clock::now();
        curl_slist_free_all(list);

        long status = 0;
        if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        r.statuses[status]++;
        r.latencies_us.push_back(static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(end - start).count()));
        r.bytes += t.received + (o.op == "put" ? static_cast<long long>(upload.size()) : 0);
        for (const auto& h : t.captured) r.captured[h]++;
        bool bad = rc != CURLE_OK || status < 200 || status > 299;
        if (!bad && o.expect_bytes >= 0 && o.op == "get" && t.received != o.expect_bytes) bad = true;
        if (bad) {
            ++r.errors;
            if (r.error_sample.empty()) {
                r.error_sample = rc != CURLE_OK ? std::string("curl: ") + curl_easy_strerror(rc)
                                                : "HTTP " + std::to_string(status) + " (" +
                                                      std::to_string(t.received) + " bytes) " + t.small_body;
            }
        }
    }
    curl_easy_cleanup(c);
}

double percentile(const std::vector<std::uint32_t>& sorted, double p) {
    if (sorted.empty()) return 0;
    const std::size_t idx = std::min(sorted.size() - 1, static_cast<std::size_t>(p * (sorted.size() - 1) + 0.5));
    return sorted[idx] / 1000.0;
}

std::string json_escape(const std::string& s) {
    std::string out;
    for (unsigned char ch : s) {
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += static_cast<char>(ch);
        } else if (ch < 0x20 || ch >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", ch);
            out += buf;
        } else {
            out += static_cast<char>(ch);
        }
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"cc-bench: SigV4-signed S3 load generator (GET / PUT / ListObjectsV2)"};
    app.add_option("--endpoint", o.endpoint, "S3 endpoint, e.g. http://127.0.0.1:8081")->capture_default_str();
    app.add_option("--bucket", o.bucket, "bucket (path style)")->required();
    app.add_option("--key", o.key, "one object key");
    app.add_option("--keys-file", o.keys_file, "file with one key per line (used round-robin)");
    app.add_option("--key-prefix", o.key_prefix, "keys are PREFIX + zero-padded index (see --count)");
    app.add_option("--count", o.count, "number of generated keys (request i uses key i mod count)");
    app.add_option("--index-start", o.index_start, "first generated index")->capture_default_str();
    app.add_option("--index-step", o.index_step, "step between generated indexes")->capture_default_str();
    app.add_option("--key-width", o.key_width, "zero-padding width of generated indexes")->capture_default_str();
    app.add_option("--access-key", o.access_key)->capture_default_str();
    app.add_option("--secret-key", o.secret_key)->capture_default_str();
    app.add_option("--region", o.region)->capture_default_str();
    app.add_option("--op", o.op, "get | put | list")->check(CLI::IsMember({"get", "put", "list"}))->capture_default_str();
    app.add_option("--size", o.size, "PUT body size in bytes")->capture_default_str();
    app.add_option("--concurrency,-c", o.concurrency, "parallel connections (one thread each)")
        ->check(CLI::Range(1, 4096))->capture_default_str();
    app.add_option("--duration,-d", o.duration, "seconds to run (requests in flight finish)");
    app.add_option("--requests,-n", o.requests, "total number of requests");
    app.add_option("--list-prefix", o.list_prefix, "prefix for --op list");
    app.add_option("--max-keys", o.max_keys, "max-keys for --op list")->capture_default_str();
    app.add_option("--expect-bytes", o.expect_bytes, "count a GET whose body is not this long as an error");
    app.add_option("--capture-header", o.capture_headers, "count the values of this response header (repeatable)");
    app.add_option("--timeout", o.timeout, "per-request timeout, seconds")->capture_default_str();
    app.add_option("--latencies-file", o.latencies_file, "write every request's latency (microseconds), one a line");
    app.add_flag("--no-sign", o.no_sign, "send unsigned requests (static web servers)");
    app.add_flag("--sign-payload", o.sign_payload, "PUT: sign the body's SHA-256 instead of UNSIGNED-PAYLOAD");
    app.add_flag("--json", o.json, "print one JSON object");
    CLI11_PARSE(app, argc, argv);

    if (o.duration <= 0 && o.requests <= 0) o.duration = 10;
    for (auto& h : o.capture_headers)
        std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
    while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();

    std::vector<std::string> keys;
    if (!o.keys_file.empty()) {
        std::ifstream in(o.keys_file);
        if (!in) {
            std::fprintf(stderr, "cc-bench: cannot read %s\n", o.keys_file.c_str());
            return 2;
        }
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) keys.push_back(line);
    }
    if (o.op != "list" && keys.empty() && o.key.empty() && o.key_prefix.empty() && o.count <= 0) {
        std::fprintf(stderr, "cc-bench: give --key, --keys-file or --key-prefix/--count\n");
        return 2;
    }

    std::string upload;
    if (o.op == "put") {
        upload.resize(static_cast<std::size_t>(o.size));
        for (std::size_t i = 0; i < upload.size(); ++i) upload[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    std::atomic<long> next{0};
    std::vector<Result> results(static_cast<std::size_t>(o.concurrency));
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
    for (int i = 0; i < o.concurrency; ++i)
        threads.emplace_back(worker, std::cref(o), std::cref(keys), std::cref(upload), std::ref(next), deadline,
                             std::ref(results[static_cast<std::size_t>(i)]));
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    curl_global_cleanup();

    Result all;
    for (auto& r : results) {
        all.latencies_us.insert(all.latencies_us.end(), r.latencies_us.begin(), r.latencies_us.end());
        all.bytes += r.bytes;
        all.errors += r.errors;
        for (auto& [k, v] : r.statuses) all.statuses[k] += v;
        for (auto& [k, v] : r.captured) all.captured[k] += v;
        if (all.error_sample.empty()) all.error_sample = r.error_sample;
    }
    std::sort(all.latencies_us.begin(), all.latencies_us.end());
    const long n = static_cast<long>(all.latencies_us.size());
    const long ok = n - all.errors;
    const double req_s = seconds > 0 ? ok / seconds : 0;
    const double mb_s = seconds > 0 ? all.bytes / seconds / 1e6 : 0;
    const double p50 = percentile(all.latencies_us, 0.50), p90 = percentile(all.latencies_us, 0.90),
                 p99 = percentile(all.latencies_us, 0.99),
                 pmax = all.latencies_us.empty() ? 0 : all.latencies_us.back() / 1000.0;

    if (!o.latencies_file.empty()) {
        std::ofstream lat(o.latencies_file, std::ios::trunc);
        for (auto us : all.latencies_us) lat << us << '\n';
    }
    if (o.json) {
        std::printf("{\"op\": \"%s\", \"endpoint\": \"%s\", \"concurrency\": %d, \"requests\": %ld, \"ok\": %ld, "
                    "\"errors\": %ld, \"seconds\": %.3f, \"req_s\": %.2f, \"mb_s\": %.3f, \"bytes\": %lld, "
                    "\"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, \"statuses\": {",
                    o.op.c_str(), json_escape(o.endpoint).c_str(), o.concurrency, n, ok, all.errors, seconds, req_s,
                    mb_s, all.bytes, p50, p90, p99, pmax);
        bool first = true;
        for (auto& [k, v] : all.statuses) {
            std::printf("%s\"%ld\": %ld", first ? "" : ", ", k, v);
            first = false;
        }
        std::printf("}, \"captured\": {");
        first = true;
        for (auto& [k, v] : all.captured) {
            std::printf("%s\"%s\": %ld", first ? "" : ", ", json_escape(k).c_str(), v);
            first = false;
        }
        std::printf("}, \"error_sample\": \"%s\"}\n", json_escape(all.error_sample).c_str());
    } else {
        std::printf("%s %s c=%d: %ld requests (%ld errors) in %.2f s\n", o.op.c_str(), o.endpoint.c_str(),
                    o.concurrency, n, all.errors, seconds);
        std::printf("  %.1f req/s  %.2f MB/s  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", req_s, mb_s, p50,
                    p90, p99, pmax);
        for (auto& [k, v] : all.statuses) std::printf("  status %ld: %ld\n", k, v);
        for (auto& [k, v] : all.captured) std::printf("  %s  (x%ld)\n", k.c_str(), v);
        if (!all.error_sample.empty()) std::printf("  first error: %s\n", all.error_sample.c_str());
    }
    return 0;
}
