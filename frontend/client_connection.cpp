#include "frontend/client_connection.h"

#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "common/log.h"
#include "common/metrics.h"
#include "common/s3error.h"
#include "frontend/body_stream.h"
#include "frontend/connection_registry.h"
#include "frontend/raw_head.h"
#include "frontend/responses.h"
#include "frontend/s3_handler.h"

namespace cc {

namespace {

// The largest request head (request line and headers) this server reads: a head
// not whole within it is refused (400 RequestHeaderSectionTooLarge) without ever
// taking a thread. No real client's head comes near it (S3 allows 8 KiB of
// headers for user metadata; nginx reads 32 KiB of headers by default).
constexpr std::size_t kLargestHeadWaitedFor = 64 * 1024;

S3Error head_too_slow() {
    return S3Error(408, "RequestTimeout",
                   "Your socket connection to the server was not read from or written to within the timeout "
                   "period (request_header_timeout)");
}

S3Error head_cut_short() {
    return S3Error(400, "BadRequest", "The request head ended before the blank line that ends it");
}

S3Error head_too_large() {
    return S3Error(400, "RequestHeaderSectionTooLarge",
                   "Your request header section exceeds the maximum allowed size (" +
                       std::to_string(kLargestHeadWaitedFor / 1024) + " KiB)");
}

}  // namespace

// Poco's server session, with what it keeps to itself made usable: how many
// received bytes it holds (a pipelined request), and its read for request
// bodies (SessionReader, frontend/body_stream.h).
class ConnectionSession : public Poco::Net::HTTPServerSession, public SessionReader {
public:
    ConnectionSession(const Poco::Net::StreamSocket& s, Poco::Net::HTTPServerParams::Ptr params, BodyPace pace)
        : HTTPServerSession(s, std::move(params)), pace_(pace) {}
    int pending() const { return buffered(); }   // received, not yet consumed
    int read_session(char* buffer, std::streamsize n) override { return read(buffer, n); }
    std::size_t arrived() override {
        // TLS: what OpenSSL has decrypted (bytes at the socket are ciphertext).
        const int waiting = socket().secure() ? socket().impl()->available() : socket().available();
        return static_cast<std::size_t>(std::max(0, pending())) + static_cast<std::size_t>(std::max(0, waiting));
    }
    bool wait_for_input(std::chrono::steady_clock::time_point until) override {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        pollfd p{socket().impl()->sockfd(), POLLIN, 0};
        int r;
        do r = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
        while (r < 0 && errno == EINTR);
        return r != 0;   // input, the client's close or an error: the read finds out which
    }
    BodyPace body_pace() const override { return pace_; }
    // RFC 9112 §2.2: empty lines before a request line are ignored (a client may end
    // a body with an extra CRLF); Poco's header reader would take the first one for
    // the end of an empty head. Only bytes already received are looked at: on a plain
    // connection the head has been read ahead into `capture` (no system call here).
    void skip_empty_lines(const HeadCapture* capture) {
        auto here = [&] {
            if (pending() > 0) return true;
            return capture ? !capture->ahead().empty() : socket().impl()->available() > 0;   // TLS: OpenSSL's buffer
        };
        while (here()) {
            const int c = peek();
            if (c != '\r' && c != '\n') return;
            get();
        }
    }

private:
    BodyPace pace_;
};

std::unique_ptr<ClientConnection> ClientConnection::accept(Poco::Net::ServerSocket& listener,
                                                           Poco::Net::HTTPServerParams::Ptr params, BodyPace pace,
                                                           S3Handler& handler, ConnectionRegistry& registry) {
    Poco::Net::StreamSocket socket;
    if (listener.secure()) {
        try {
            socket = listener.acceptConnection();
        } catch (const Poco::IOException& e) {
            if (e.code() == EMFILE || e.code() == ENFILE) throw OutOfDescriptors(e.displayText());
            throw;
        }
    } else {
        const int fd = ::accept4(listener.impl()->sockfd(), nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) throw OutOfDescriptors(std::strerror(errno));
            return nullptr;   // ECONNABORTED, EAGAIN, ...: the client went away
        }
        socket = Poco::Net::StreamSocket(new HeadCapture(fd));   // owns the descriptor
    }
    socket.setNoDelay(true);
    // A client that stops reading holds the thread sending to it: a send that makes
    // no progress for this long ends the connection (receives have the same limit).
    socket.setSendTimeout(params->getTimeout());
    return std::make_unique<ClientConnection>(socket, std::move(params), pace, handler, registry);
}

ClientConnection::ClientConnection(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
                                   BodyPace pace, S3Handler& handler, ConnectionRegistry& registry)
    : socket_(socket), params_(std::move(params)), handler_(handler), registry_(registry), tls_(socket_.secure()) {
    metrics::add("cc_open_connections", {}, 1);
    // Plain connections read through a HeadCapture, so header values reach the
    // handler as sent (raw_head.h). TLS ones keep Poco's reading: the capture
    // would see ciphertext.
    capture_ = dynamic_cast<HeadCapture*>(socket_.impl());
    session_ = std::make_unique<ConnectionSession>(socket_, params_, pace);
}

ClientConnection::~ClientConnection() {
    registry_.closed(&socket_);
    if (linger_) lingering_close();
    session_.reset();
    metrics::add("cc_open_connections", {}, -1);
}

int ClientConnection::fd() const { return socket_.impl()->sockfd(); }

bool ClientConnection::request_arrives(std::chrono::milliseconds wait, int interrupt) {
    if (!socket_.impl()->initialized()) return false;
    if (session_->pending() > 0) return true;                     // pipelined: already read
    if (capture_ && !capture_->ahead().empty()) return true;      // read ahead (arrival())
    if (tls_ && socket_.impl()->available() > 0) return true;     // decrypted, in OpenSSL's buffer
    pollfd p[2] = {{fd(), POLLIN, 0}, {interrupt, POLLIN, 0}};
    int r;
    do r = ::poll(p, interrupt >= 0 ? 2 : 1, static_cast<int>(wait.count()));
    while (r < 0 && errno == EINTR);
    return r > 0 && (p[0].revents != 0);
}

ClientConnection::Arrival ClientConnection::arrival() {
    if (!socket_.impl()->initialized()) return Arrival::Ready;   // the thread finds it closed
    if (tls_ || !capture_) return request_arrives(std::chrono::milliseconds(0)) ? Arrival::Ready : Arrival::Nothing;
    // Received so far: what Poco's session holds unread (a pipelined request's
    // start), then what the capture has read ahead, then what waits in the socket,
    // which is read ahead too (the session takes it from there: no extra system call).
    std::string_view held;
    if (const auto pending = static_cast<std::size_t>(session_->pending()); pending > 0) {
        const auto known = capture_->held(pending);
        if (!known || holds_whole_head(*known)) return Arrival::Ready;
        held = *known;
    }
    for (;;) {
        const std::string_view ahead = capture_->ahead();
        if (!ahead.empty()) {
            const bool whole = held.empty() ? holds_whole_head(ahead) : holds_whole_head(std::string(held).append(ahead));
            if (whole) return Arrival::Ready;
            if (held.size() + ahead.size() >= kLargestHeadWaitedFor) return Arrival::TooLarge;
        }
        const long n = capture_->read_ahead();
        if (n == 0) return Arrival::Ready;   // closed by the client: the thread sees it
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
            return Arrival::Ready;           // an error the thread will meet
        }
    }
    if (held.empty() && capture_->ahead().empty()) return Arrival::Nothing;
    // A client that stopped sending halfway through its head (a half close: the
    // read above saw no end of it yet) gets its answer from a thread.
    pollfd p{fd(), POLLRDHUP, 0};
    if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) return Arrival::Ready;
    return Arrival::PartialHead;
}

void ClientConnection::time_out_head() {
    metrics::add("cc_slow_request_heads_closed_total", {});
    answer_without_waiting(head_too_slow());
}

void ClientConnection::refuse_large_head() { answer_without_waiting(head_too_large()); }

void ClientConnection::answer_without_waiting(const S3Error& err) {
    // What is still unread in the socket at close (bytes sent since the head was
    // last read ahead) would turn the close into a reset, which loses the answer.
    // Nothing here waits on the client: the answer goes out if there is room.
    char buf[16384];
    for (std::size_t drained = 0; drained < kLargestHeadWaitedFor * 4;) {
        const ssize_t n = ::recv(fd(), buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) break;
        drained += static_cast<std::size_t>(n);
    }
    socket_.setBlocking(false);
    reject(err);
}

bool ClientConnection::serve_one() {
    if (!socket_.impl()->initialized()) return false;
    // A request already here when the server stops is still answered (with
    // "Connection: close"): closing on it unread would reset the connection.
    registry_.reading_head(&socket_);
    bool head_done = false;
    // Whether the request-head deadline cut this head off (then any read error is its doing).
    auto cut_off = [&] { return !head_done && !registry_.head_read(&socket_); };
    const S3Error too_slow = head_too_slow();
    try {
        Poco::Net::HTTPServerResponseImpl response(*session_);
        try {
            session_->skip_empty_lines(capture_);
            // A pipelined head starts with bytes Poco's session already holds: the
            // capture knows them (raw_head.h).
            const bool capturing = capture_ && capture_->start(static_cast<std::size_t>(session_->pending()));
            Poco::Net::HTTPServerRequestImpl request(response, *session_, params_);
            if (cut_off()) {   // what was parsed is a truncated head
                reject(too_slow);
                return false;
            }
            head_done = true;
            if (capturing) {
                const std::string received = capture_->stop();
                const std::size_t pending = static_cast<std::size_t>(session_->pending());
                const std::string_view head =
                    std::string_view(received).substr(0, received.size() - std::min(pending, received.size()));
                if (!head_complete(head) && !received.empty()) {
                    // The client stopped sending before the blank line ending the head:
                    // Poco would dispatch what it got.
                    reject(head_cut_short());
                    return false;
                }
                restore_raw_header_values(request, head);
            }
            response.setDate(Poco::Timestamp());
            // An answer in a version we speak (an HTTP/2.0 request line gets its 505 in 1.1).
            response.setVersion(request.getVersion() == Poco::Net::HTTPMessage::HTTP_1_0 ? request.getVersion()
                                                                                         : Poco::Net::HTTPMessage::HTTP_1_1);
            response.setKeepAlive(params_->getKeepAlive() && request.getKeepAlive() && !registry_.stopping());
            handler_.handle(request, response);
            ++served_;
            linger_ = !response.getKeepAlive();
            return response.getKeepAlive();
        } catch (const Poco::Net::NoMessageException&) {
            if (cut_off()) reject(too_slow);
            return false;   // else the client closed the connection between requests
        } catch (const Poco::Net::MessageException& e) {
            if (cut_off()) {
                reject(too_slow);   // no lingering for a client this slow
                return false;
            }
            // A head the client stopped sending partway (then closed): Poco's complaint
            // is about the bytes it had, but the head was cut short.
            if (capture_ && head_was_cut_short(capture_->stop())) reject(head_cut_short());
            else reject_malformed(e.displayText());
            linger_ = true;
            return false;
        } catch (const Poco::SyntaxException& e) {   // e.g. Content-Length: 5abc
            if (cut_off()) {
                reject(too_slow);
                return false;
            }
            reject_malformed("a header value could not be parsed (" + e.displayText() + ")");
            linger_ = true;
            return false;
        }
    } catch (const std::exception& e) {
        // Network errors (a TLS read ended by the deadline too), or a failure after the
        // response started: drop the connection.
        if (cut_off()) reject(too_slow);
        log::debug("connection closed: ", e.what());
        linger_ = false;
        return false;
    }
}

// Poco stops reading a head at its first complaint (a 101st field, say), so what it
// consumed can end before the blank line even when the client sent it: the rest,
// read ahead by the capture or still waiting in the socket, tells the two apart.
// (The connection closes after this answer: what is read here is not needed again.)
bool ClientConnection::head_was_cut_short(std::string consumed) {
    if (consumed.empty() || holds_whole_head(consumed)) return false;
    consumed.append(capture_->ahead());
    char buf[16384];
    while (consumed.size() < kLargestHeadWaitedFor * 2) {
        const ssize_t n = ::recv(fd(), buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) break;
        consumed.append(buf, static_cast<std::size_t>(n));
        if (holds_whole_head(consumed)) return false;
    }
    return !holds_whole_head(consumed);
}

namespace {
constexpr std::size_t kMostSwallowed = 64u << 20;   // a lingering close takes in at most this much
}  // namespace

void ClientConnection::start_lingering_close() {
    linger_ = false;
    lingering_ = true;
    ::shutdown(fd(), SHUT_WR);   // on the descriptor: Poco's TLS socket has no half close
}

bool ClientConnection::swallow_input() {
    char buf[16384];
    while (swallowed_ < kMostSwallowed) {
        const ssize_t n = ::recv(fd(), buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            swallowed_ += static_cast<std::size_t>(n);
            continue;
        }
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);   // else closed or failed
    }
    return false;
}

// See wants_lingering_close(); this one waits in the calling thread, for at most 5 s.
void ClientConnection::lingering_close() {
    // On the descriptor: Poco's TLS socket has no half close (shutdownSend() does
    // nothing there), and what is drained is thrown away unread, ciphertext or not.
    linger_ = false;
    const int fd = socket_.impl()->sockfd();
    if (::shutdown(fd, SHUT_WR) != 0) return;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::size_t total = 0;
    char buf[16384];
    while (total < kMostSwallowed && std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 1000) <= 0) break;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        total += static_cast<std::size_t>(n);
    }
}

// The request could not even be parsed (its response object points at
// the request that failed to construct, so a fresh one answers).
void ClientConnection::reject_malformed(const std::string& why) {
    // Poco's words for a header section over its limits ("Field name too long",
    // "Field value too long", "Too many header fields"); "method invalid or too
    // long" and the like are malformed request lines.
    const bool too_big = why.find("Field name too long") != std::string::npos ||
                         why.find("Field value too long") != std::string::npos ||
                         why.find("Too many") != std::string::npos;
    reject(S3Error(400, too_big ? "RequestHeaderSectionTooLarge" : "BadRequest",
                   too_big ? "Your request header section exceeds the maximum allowed size: " + why
                           : "The request could not be parsed as HTTP: " + why));
}

// Answers with `err` on a fresh response and closes (the request is not dispatched).
void ClientConnection::reject(const S3Error& err) {
    try {
        Poco::Net::HTTPServerResponseImpl response(*session_);
        response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
        std::string id = new_request_id();
        response.set("x-amz-request-id", id);
        response.set("x-amz-id-2", host_id());
        response.setKeepAlive(false);
        send_error(response, err, id, "/", false);
        log::info("access id=", id, " client=", socket_.peerAddress().host().toString(), " op=- status=", err.status(),
                  " reason=", err.code());
    } catch (const std::exception&) {
    }
}

}  // namespace cc
