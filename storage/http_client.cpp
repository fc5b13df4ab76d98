#include "storage/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <exception>

namespace cc {
namespace {

constexpr std::size_t kMaxBufferedBody = 1 << 20;

// One handle per thread: curl_easy_reset() keeps its connection cache, so
// consecutive requests from a thread reuse open connections to a backend.
struct ThreadHandle {
    CURL* curl = curl_easy_init();
    ~ThreadHandle() { if (curl) curl_easy_cleanup(curl); }
};

struct Transfer {
    const HttpRequest* req;
    HttpResponse* resp;
    const std::function<BodySink*(const HttpResponse&)>* stream_to;
    BodySink* sink = nullptr;
    // libcurl hands the body over in pieces of at most 16 KiB (CURL_MAX_WRITE_SIZE)
    // whatever its receive buffer; they are gathered here so that the sink (a
    // client socket, a cache fill) gets few large writes: a 256 MiB download
    // costs ~1 000 sends instead of ~16 000.
    std::string gathered;
    bool headers_done = false;
    std::exception_ptr error;
};

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string_view line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) {            // a new response (after 100 Continue too)
        t->resp->headers.clear();
        auto sp = line.find(' ');
        t->resp->status = sp == std::string_view::npos ? 0 : std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
        return size * n;
    }
    if (trim(line).empty()) {
        if (t->resp->status >= 200 && !t->headers_done) {
            t->headers_done = true;
            try {
                if (*t->stream_to) t->sink = (*t->stream_to)(*t->resp);
            } catch (...) {
                t->error = std::current_exception();
                return 0;
            }
        }
        return size * n;
    }
    auto colon = line.find(':');
    if (colon != std::string_view::npos)
        t->resp->headers.emplace_back(lower(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
    return size * n;
}

constexpr std::size_t kGatherBytes = 128 * 1024;

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    size_t len = size * n;
    if (t->sink) {
        try {
            if (t->gathered.empty() && len >= kGatherBytes) {
                t->sink->write(data, len);
            } else {
                t->gathered.append(data, len);
                if (t->gathered.size() >= kGatherBytes) {
                    t->sink->write(t->gathered.data(), t->gathered.size());
                    t->gathered.clear();
                }
            }
        } catch (...) {
            t->error = std::current_exception();
            return 0;   // makes curl abort with CURLE_WRITE_ERROR
        }
        return len;
    }
    if (t->resp->body.size() + len > kMaxBufferedBody) return 0;
    t->resp->body.append(data, len);
    return len;
}

size_t on_read(char* buf, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    try {
        return t->req->body->read(buf, size * n);
    } catch (...) {
        t->error = std::current_exception();
        return CURL_READFUNC_ABORT;
    }
}

}  // namespace

const std::string* HttpResponse::header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers)
        if (k == lower_name) return &v;
    return nullptr;
}

void http_global_init() { curl_global_init(CURL_GLOBAL_DEFAULT); }

HttpResponse http_perform(const HttpRequest& req, const std::function<BodySink*(const HttpResponse&)>& stream_to) {
    thread_local ThreadHandle handle;
    CURL* c = handle.curl;
    curl_easy_reset(c);

    HttpResponse resp;
    Transfer t{&req, &resp, &stream_to, nullptr, {}, false, nullptr};

    curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
    // Object keys may contain "/./" or "/../": send the path exactly as signed.
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, req.timeouts.connect_seconds);
    // A transfer that moves less than 1 byte/s for stall_seconds is a dead backend.
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, req.timeouts.stall_seconds);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);

    if (req.method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (req.body) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &t);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body->length()));
        curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
        if (req.method != "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    } else if (req.method != "GET") {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }

    curl_slist* list = nullptr;
    for (const auto& [k, v] : req.headers) list = curl_slist_append(list, (k + ": " + v).c_str());
    if (!req.body) {
        list = curl_slist_append(list, "Expect:");
        const bool has_cl = std::any_of(req.headers.begin(), req.headers.end(),
                                        [](const auto& h) { return lower(h.first) == "content-length"; });
        // S3 wants an explicit empty body on bodiless PUTs and POSTs (copies, multipart initiation).
        if (!has_cl && (req.method == "PUT" || req.method == "POST")) list = curl_slist_append(list, "Content-Length: 0");
    }
    // curl would otherwise add "Content-Type: application/x-www-form-urlencoded" to POSTs.
    bool has_ct = std::any_of(req.headers.begin(), req.headers.end(),
                              [](const auto& h) { return lower(h.first) == "content-type"; });
    if (!has_ct) list = curl_slist_append(list, "Content-Type:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);

    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(list);

    if (t.error) std::rethrow_exception(t.error);
    if (rc != CURLE_OK) throw TransportError(curl_easy_strerror(rc));
    if (t.sink && !t.gathered.empty()) t.sink->write(t.gathered.data(), t.gathered.size());   // the tail
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    resp.status = static_cast<int>(code);
    return resp;
}

}  // namespace cc
