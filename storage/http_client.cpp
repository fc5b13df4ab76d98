#include "storage/http_client.h"

#include <curl/curl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <exception>
#include <vector>

namespace cc {
namespace {

constexpr std::size_t kMaxBufferedBody = 1 << 20;

// One handle per thread: curl_easy_reset() keeps its connection cache, so
// consecutive requests from a thread reuse open connections to a backend.
// It also keeps the sockets of those connections: libcurl does not tell a
// transfer in progress which one it uses, so the handle records every socket
// it opens and the transfer finds its own by the addresses and ports of both
// ends, which CURLOPT_PREREQFUNCTION reports (connection_of).
struct ThreadHandle {
    CURL* curl = curl_easy_init();
    std::vector<curl_socket_t> sockets;
    ~ThreadHandle() { if (curl) curl_easy_cleanup(curl); }
};

int on_socket_open(void* user, curl_socket_t s, curlsocktype) {
    static_cast<ThreadHandle*>(user)->sockets.push_back(s);
    return CURL_SOCKOPT_OK;
}

int on_socket_close(void* user, curl_socket_t s) {
    auto& v = static_cast<ThreadHandle*>(user)->sockets;
    v.erase(std::remove(v.begin(), v.end(), s), v.end());
    return close(s);
}

// "address port" of one end of a socket, as libcurl reports it to CURLOPT_PREREQFUNCTION.
std::string endpoint(curl_socket_t s, bool peer) {
    sockaddr_storage a{};
    socklen_t n = sizeof a;
    if ((peer ? getpeername(s, reinterpret_cast<sockaddr*>(&a), &n) : getsockname(s, reinterpret_cast<sockaddr*>(&a), &n)) != 0)
        return {};
    char ip[INET6_ADDRSTRLEN] = "";
    int port = 0;
    if (a.ss_family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&a);
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        port = ntohs(in->sin_port);
    } else if (a.ss_family == AF_INET6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&a);
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        port = ntohs(in6->sin6_port);
    }
    return std::string(ip) + " " + std::to_string(port);
}

struct Transfer {
    ThreadHandle* handle = nullptr;
    const HttpRequest* req = nullptr;
    HttpResponse* resp = nullptr;
    const std::function<BodySink*(const HttpResponse&)>* stream_to = nullptr;
    BodySink* sink = nullptr;
    // libcurl hands the body over in pieces of at most 16 KiB (CURL_MAX_WRITE_SIZE)
    // whatever its receive buffer; they are gathered here so that the sink (a
    // client socket, a cache fill) gets few large writes: a 256 MiB download
    // costs ~1 000 sends instead of ~16 000 (see kGatherBytes).
    std::string gathered;
    bool headers_done = false;
    std::exception_ptr error;
    std::string local_end, peer_end;   // "address port" of both ends of this transfer's connection
    // Receive low-water mark of a large streamed body (see wake_for_bytes).
    curl_socket_t socket = CURL_SOCKET_BAD;
    std::uint64_t body_left = 0;   // bytes of the body not yet handed to on_body
    int lowat = 1;                 // SO_RCVLOWAT currently set on `socket`
};

// A backend streaming a large body sends it in pieces (Swift: 64 KiB), and
// libcurl wakes up, polls and reads once per piece: ~3 200 sleeps and wake-ups
// of the thread per 256 MiB, which cost more CPU than the copies (measured:
// 140 ms of CPU per 256 MiB GET, 105 ms with this). With SO_RCVLOWAT the
// kernel wakes it only once up to 256 KiB are waiting. The mark never exceeds
// what is left of the body, so the last bytes always wake it: over plain HTTP
// libcurl hands every byte it read to on_body before it polls again, so after
// the last on_body call the bytes left at the socket are exactly `body_left`
// (not so over TLS, where a partial record may sit in OpenSSL's buffer: TLS
// connections are left alone). At the end of the body the mark is back at 1,
// ready for the next response on the kept-alive connection. The mark is also
// kept below 16 KiB per second of `stall_seconds`, so that a slow backend
// is not mistaken for a stalled one (libcurl sees progress only when it reads).
constexpr std::uint64_t kLowWater = 256 * 1024;
constexpr std::uint64_t kLowWaterFrom = 4ull << 20;   // bodies smaller than this are left alone

void wake_for_bytes(Transfer& t) {
    if (t.socket == CURL_SOCKET_BAD) return;
    const std::uint64_t per_stall = 16 * 1024 * static_cast<std::uint64_t>(std::max<long>(1, t.req->timeouts.stall_seconds));
    const std::uint64_t most = std::min(kLowWater, per_stall);
    const int want = static_cast<int>(std::clamp<std::uint64_t>(t.body_left, 1, most));
    if (want == t.lowat) return;
    if (setsockopt(t.socket, SOL_SOCKET, SO_RCVLOWAT, &want, sizeof want) == 0) t.lowat = want;
    else t.socket = CURL_SOCKET_BAD;   // not supported: behave as without it
}

int on_connected(void* user, char* peer_ip, char* local_ip, int peer_port, int local_port) {
    auto* t = static_cast<Transfer*>(user);
    t->peer_end = std::string(peer_ip) + " " + std::to_string(peer_port);
    t->local_end = std::string(local_ip) + " " + std::to_string(local_port);
    return CURL_PREREQFUNC_OK;
}

// The socket this transfer runs on, among those the thread's handle keeps open.
curl_socket_t connection_of(const Transfer& t) {
    for (curl_socket_t s : t.handle->sockets)
        if (endpoint(s, false) == t.local_end && endpoint(s, true) == t.peer_end) return s;
    return CURL_SOCKET_BAD;
}

// An environment proxy may be reached over TLS even for http:// URLs: then the
// byte count of the socket is not the body's, and the mark is not used.
bool proxy_configured() {
    static const bool set = [] {
        for (const char* name : {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"})
            if (const char* v = std::getenv(name); v && *v) return true;
        return false;
    }();
    return set;
}

void start_low_water(Transfer& t) {
    if (t.req->url.rfind("http://", 0) != 0 || proxy_configured()) return;
    const std::string* cl = t.resp->header("content-length");
    if (!cl || t.resp->header("transfer-encoding")) return;
    std::uint64_t length = 0;
    const auto [end, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), length);
    if (ec != std::errc() || end != cl->data() + cl->size() || length < kLowWaterFrom) return;
    t.socket = connection_of(t);
    if (t.socket == CURL_SOCKET_BAD) return;
    t.body_left = length;
    wake_for_bytes(t);
}

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
            if (t->sink && (t->resp->status == 200 || t->resp->status == 206)) start_low_water(*t);
        }
        return size * n;
    }
    auto colon = line.find(':');
    if (colon != std::string_view::npos)
        t->resp->headers.emplace_back(lower(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
    return size * n;
}

// As large as libcurl's receive buffer (CURLOPT_BUFFERSIZE), so that one
// backend read is one client write: measured on a 256 MiB GET, 15 % less CPU
// than 128 KiB (half the sends, and half the times a send wakes the client
// and is preempted by it on a busy machine); larger gains nothing more.
constexpr std::size_t kGatherBytes = 256 * 1024;

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    size_t len = size * n;
    if (t->socket != CURL_SOCKET_BAD) {
        t->body_left -= std::min<std::uint64_t>(t->body_left, len);
        wake_for_bytes(*t);
    }
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
    Transfer t;
    t.handle = &handle;
    t.req = &req;
    t.resp = &resp;
    t.stream_to = &stream_to;

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
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, static_cast<long>(kGatherBytes));
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, on_socket_open);
    curl_easy_setopt(c, CURLOPT_SOCKOPTDATA, &handle);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, on_socket_close);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETDATA, &handle);
    curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, on_connected);
    curl_easy_setopt(c, CURLOPT_PREREQDATA, &t);

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
    if (t.socket != CURL_SOCKET_BAD && t.lowat != 1 &&
        std::find(handle.sockets.begin(), handle.sockets.end(), t.socket) != handle.sockets.end()) {
        // A transfer that ended early on a connection curl keeps: wake for any byte again.
        const int one = 1;
        setsockopt(t.socket, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
    }

    if (t.error) std::rethrow_exception(t.error);
    if (rc != CURLE_OK) throw TransportError(curl_easy_strerror(rc));
    if (t.sink && !t.gathered.empty()) t.sink->write(t.gathered.data(), t.gathered.size());   // the tail
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    resp.status = static_cast<int>(code);
    return resp;
}

}  // namespace cc
