#include "frontend/server.h"

#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <map>
#include <set>
#include <thread>

#include "common/log.h"
#include "common/metrics.h"
#include "engine/periodic_task.h"
#include "frontend/body_stream.h"
#include "frontend/operator_endpoints.h"
#include "frontend/raw_head.h"
#include "frontend/responses.h"

namespace cc {

// Knows which connections sit idle between keep-alive requests, so that a
// shutdown can close those at once and let busy ones finish their request.
class ConnectionRegistry {
public:
    // Returns false when the server is stopping: the connection should close.
    bool idle(Poco::Net::StreamSocket* s) {
        std::lock_guard lock(m_);
        if (stopping_) return false;
        idle_.insert(s);
        return true;
    }
    // The request head (request line and headers) is being read from now on.
    void busy(Poco::Net::StreamSocket* s) {
        std::lock_guard lock(m_);
        idle_.erase(s);
        reading_head_[s] = std::chrono::steady_clock::now();
    }
    // Returns false when the head took too long and was cut off (see below).
    bool head_read(Poco::Net::StreamSocket* s) {
        std::lock_guard lock(m_);
        return reading_head_.erase(s) == 1;
    }
    // A client that takes longer than `limit` to send a request head (slowloris)
    // would hold a thread: its receiving side is shut, which ends the read.
    void expire_slow_heads(std::chrono::seconds limit) {
        std::lock_guard lock(m_);
        const auto now = std::chrono::steady_clock::now();
        for (auto it = reading_head_.begin(); it != reading_head_.end();) {
            if (now - it->second <= limit) {
                ++it;
                continue;
            }
            try {
                it->first->shutdownReceive();
            } catch (const Poco::Exception&) {
            }
            metrics::add("cc_slow_request_heads_closed_total", {});
            it = reading_head_.erase(it);
        }
    }
    void closed(Poco::Net::StreamSocket* s) {
        std::lock_guard lock(m_);
        idle_.erase(s);
        reading_head_.erase(s);
    }
    bool stopping() {
        std::lock_guard lock(m_);
        return stopping_;
    }
    // Whether connections wait in the server's queue for a thread (set once the server runs).
    void set_queue_probe(std::function<bool()> probe) {
        std::lock_guard lock(m_);
        queued_ = std::move(probe);
    }
    bool others_waiting() {
        std::function<bool()> probe;
        {
            std::lock_guard lock(m_);
            probe = queued_;
        }
        return probe && probe();
    }
    void stop() {
        std::lock_guard lock(m_);
        stopping_ = true;
        for (auto* s : idle_) {
            try {
                s->shutdownReceive();   // wakes the keep-alive wait; the connection then ends
            } catch (const Poco::Exception&) {
            }
        }
    }
private:
    std::mutex m_;
    std::set<Poco::Net::StreamSocket*> idle_;
    std::map<Poco::Net::StreamSocket*, std::chrono::steady_clock::time_point> reading_head_;
    std::function<bool()> queued_;
    bool stopping_ = false;
};

namespace {

// Waits for the next request of a connection. Two things Poco's
// HTTPServerSession::hasMoreRequests() does not do:
// - it waits through a fresh epoll instance every time (create, ctl, wait,
//   close: four system calls per request); one poll(2) does the same;
// - a connection holds its thread while idle between requests, so with
//   max_threads idle keep-alive clients, a new client would wait up to the
//   keep-alive timeout. Idle connections wait in slices of a second and give
//   up their thread as soon as another connection is queued for one.
// TLS connections wait through Poco's poll, which also sees OpenSSL's buffer.
// It also lets request bodies be read in large blocks (SessionReader,
// frontend/body_stream.h).
class KeepAliveSession : public Poco::Net::HTTPServerSession, public SessionReader {
public:
    KeepAliveSession(const Poco::Net::StreamSocket& s, Poco::Net::HTTPServerParams::Ptr params,
                     std::function<bool()> others_waiting)
        : HTTPServerSession(s, params), params_(std::move(params)), others_waiting_(std::move(others_waiting)),
          tls_(socket().secure()) {}

    bool next_request_arrives() {
        if (!socket().impl()->initialized()) return false;
        const bool first = first_;
        first_ = false;
        if (!first && !getKeepAlive()) return false;
        if (buffered() > 0) return true;   // pipelined: already read
        // A new connection gets the full timeout to send its first request, but like an
        // idle keep-alive one it gives its thread up once others queue (after >= 1 s).
        auto left = std::chrono::milliseconds((first ? getTimeout() : params_->getKeepAliveTimeout()).totalMilliseconds());
        for (;;) {
            const auto slice = std::min(left, std::chrono::milliseconds(std::chrono::seconds(1)));
            if (readable(slice)) return true;
            left -= slice;
            if (left.count() <= 0) return false;
            if (others_waiting_ && others_waiting_()) {
                metrics::add("cc_idle_connections_closed_total", {});
                return false;   // idle while others wait for a thread: this one closes
            }
        }
    }

    int pending() const { return buffered(); }   // received, not yet consumed
    int read_session(char* buffer, std::streamsize n) override { return read(buffer, n); }

private:
    bool readable(std::chrono::milliseconds wait) {
        if (tls_) return socket().poll(Poco::Timespan(wait.count() * 1000), Poco::Net::Socket::SELECT_READ);
        pollfd p{socket().impl()->sockfd(), POLLIN, 0};
        int r;
        do r = ::poll(&p, 1, static_cast<int>(wait.count()));
        while (r < 0 && errno == EINTR);
        return r > 0;
    }

    Poco::Net::HTTPServerParams::Ptr params_;
    std::function<bool()> others_waiting_;
    bool tls_;
    bool first_ = true;
};

class S3Connection : public Poco::Net::TCPServerConnection {
public:
    S3Connection(const Poco::Net::StreamSocket& s, S3Handler& h, Poco::Net::HTTPServerParams::Ptr params,
                 ConnectionRegistry& registry)
        : TCPServerConnection(s), handler_(h), params_(std::move(params)), registry_(registry) {}

    void run() override {
        metrics::add("cc_open_connections", {}, 1);
        struct Closed {
            ~Closed() { metrics::add("cc_open_connections", {}, -1); }
        } closed;
        // Plain connections read through a HeadCapture over a dup of the descriptor
        // (same socket), so header values reach the handler as sent (raw_head.h).
        // TLS ones keep Poco's reading: the capture would see ciphertext.
        Poco::Net::StreamSocket io = socket();
        HeadCapture* capture = nullptr;
        if (!socket().secure()) {
            const int fd = ::dup(socket().impl()->sockfd());
            if (fd >= 0) {
                capture = new HeadCapture(fd);
                io = Poco::Net::StreamSocket(capture);   // owns it; closes the dup
            }
        }
        KeepAliveSession session(io, params_, [this] { return registry_.others_waiting(); });
        bool linger = false;
        for (;;) {
            if (!registry_.idle(&socket())) break;
            const bool more = session.next_request_arrives();
            registry_.busy(&socket());
            if (!more) break;
            try {
                Poco::Net::HTTPServerResponseImpl response(session);
                try {
                    // A head that arrives after bytes Poco already holds (pipelining) is not
                    // captured from its start: it keeps Poco's reading.
                    const bool capturing = capture && session.pending() == 0;
                    if (capturing) capture->start();
                    Poco::Net::HTTPServerRequestImpl request(response, session, params_);
                    if (!registry_.head_read(&socket())) {
                        // Cut off by the deadline: what was parsed is a truncated head.
                        reject(session, S3Error(408, "RequestTimeout",
                                                "Your socket connection to the server was not read from or written "
                                                "to within the timeout period (request_header_timeout)"));
                        break;
                    }
                    if (capturing) {
                        const std::string received = capture->stop();
                        const std::size_t pending = static_cast<std::size_t>(session.pending());
                        const std::string_view head = std::string_view(received).substr(0, received.size() - std::min(pending, received.size()));
                        if (!head_complete(head) && !received.empty()) {
                            // The client stopped sending before the blank line ending the head:
                            // Poco would dispatch what it got.
                            reject(session, S3Error(400, "BadRequest", "The request head ended before the blank line that ends it"));
                            break;
                        }
                        restore_raw_header_values(request, head);
                    }
                    response.setDate(Poco::Timestamp());
                    response.setVersion(request.getVersion());
                    response.setKeepAlive(params_->getKeepAlive() && request.getKeepAlive() &&
                                          !registry_.stopping());
                    handler_.handle(request, response);
                    session.setKeepAlive(params_->getKeepAlive() && response.getKeepAlive());
                    linger = !response.getKeepAlive();
                } catch (const Poco::Net::NoMessageException&) {
                    break;
                } catch (const Poco::Net::MessageException& e) {
                    reject_malformed(session, e.displayText());
                    lingering_close();
                    break;
                } catch (const Poco::SyntaxException& e) {   // e.g. Content-Length: 5abc
                    reject_malformed(session, "a header value could not be parsed (" + e.displayText() + ")");
                    lingering_close();
                    break;
                }
            } catch (const std::exception& e) {
                // Network errors, or a failure after the response started: drop the connection.
                log::debug("connection closed: ", e.what());
                linger = false;
                break;
            }
        }
        registry_.closed(&socket());
        if (linger) lingering_close();
    }

private:
    // We answered and now close while the client may still be sending (an
    // error before its body was read, an unparsable header): closing a socket
    // with unread input sends a reset, which makes the client drop our answer
    // unread. So stop sending, and read what arrives for a bounded while.
    void lingering_close() {
        try {
            socket().shutdownSend();
            socket().setReceiveTimeout(Poco::Timespan(1, 0));
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
            std::size_t total = 0;
            char buf[16384];
            while (total < (64u << 20) && std::chrono::steady_clock::now() < deadline) {
                const int n = socket().receiveBytes(buf, sizeof buf);
                if (n <= 0) break;
                total += static_cast<std::size_t>(n);
            }
        } catch (const Poco::Exception&) {
        }
    }

    // The request could not even be parsed (its response object points at
    // the request that failed to construct, so a fresh one answers).
    void reject_malformed(Poco::Net::HTTPServerSession& session, const std::string& why) {
        const bool too_big = why.find("too long") != std::string::npos || why.find("Too many") != std::string::npos;
        reject(session, S3Error(400, too_big ? "RequestHeaderSectionTooLarge" : "BadRequest",
                                too_big ? "Your request header section exceeds the maximum allowed size: " + why
                                        : "The request could not be parsed as HTTP: " + why));
    }

    // Answers with `err` on a fresh response and closes (the request is not dispatched).
    void reject(Poco::Net::HTTPServerSession& session, const S3Error& err) {
        try {
            Poco::Net::HTTPServerResponseImpl response(session);
            std::string id = new_request_id();
            response.set("x-amz-request-id", id);
            response.set("x-amz-id-2", host_id());
            response.setKeepAlive(false);
            send_error(response, err, id, "/", false);
            log::info("access id=", id, " client=", socket().peerAddress().host().toString(),
                      " op=- status=", err.status(), " reason=", err.code());
        } catch (const std::exception&) {
        }
    }

    S3Handler& handler_;
    Poco::Net::HTTPServerParams::Ptr params_;
    ConnectionRegistry& registry_;
};

class S3ConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
public:
    S3ConnectionFactory(S3Handler& h, Poco::Net::HTTPServerParams::Ptr p, ConnectionRegistry& r)
        : handler_(h), params_(std::move(p)), registry_(r) {}
    Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
        return new S3Connection(socket, handler_, params_, registry_);
    }
private:
    S3Handler& handler_;
    Poco::Net::HTTPServerParams::Ptr params_;
    ConnectionRegistry& registry_;
};

// Native HTTPS: the operator's certificate and key, TLS 1.2 and 1.3 only,
// no client certificates (clients authenticate with S3 signatures).
Poco::Net::Context::Ptr tls_context(const Settings& s) {
    Poco::Net::initializeSSL();
    try {
        Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, s.tls_key_file,
                                                             s.tls_cert_file, "", Poco::Net::Context::VERIFY_NONE);
        ctx->disableProtocols(Poco::Net::Context::PROTO_SSLV2 | Poco::Net::Context::PROTO_SSLV3 |
                              Poco::Net::Context::PROTO_TLSV1 | Poco::Net::Context::PROTO_TLSV1_1);
        ctx->preferServerCiphers();
        return ctx;
    } catch (const Poco::Exception& e) {
        throw std::runtime_error("[cloud-connector] tls_cert_file/tls_key_file: " + e.displayText());
    }
}

}  // namespace

Server::Server(Gateway& gateway)
    : gateway_(gateway), handler_(gateway), registry_(std::make_unique<ConnectionRegistry>()) {}
Server::~Server() { stop(0); }

void Server::start() {
    const Settings& s = gateway_.settings();
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(s.max_threads);
    params->setMaxQueued(s.max_threads * 4);
    params->setKeepAlive(true);
    params->setMaxKeepAliveRequests(0);                       // unlimited (the connection loop never limits them)
    params->setKeepAliveTimeout(Poco::Timespan(s.keep_alive_timeout, 0));
    params->setTimeout(Poco::Timespan(60, 0));                // a silent client is dropped after 60 s
    params->setServerName("cloud-connector");

    Poco::Net::SocketAddress addr(s.bind_ip, static_cast<Poco::UInt16>(s.bind_port));
    // SO_REUSEADDR for quick restarts, but never SO_REUSEPORT (Poco's default
    // with reuseAddress): it would let two servers silently share the port.
    Poco::Net::ServerSocket socket;
    if (!s.tls_cert_file.empty()) socket = Poco::Net::SecureServerSocket(tls_context(s));
    try {
        socket.bind(addr, /*reuseAddress=*/true, /*reusePort=*/false);
        socket.listen(256);
    } catch (const Poco::Exception& e) {
        throw std::runtime_error("[DEFAULT] bind_ip/bind_port: cannot listen on " + addr.toString() + ": " +
                                 e.displayText());
    }
    pool_ = std::make_unique<Poco::ThreadPool>(2, s.max_threads, 60);
    tcp_ = std::make_unique<Poco::Net::TCPServer>(new S3ConnectionFactory(handler_, params, *registry_), *pool_, socket, params);
    registry_->set_queue_probe([tcp = tcp_.get()] { return tcp->queuedConnections() > 0; });
    head_deadline_ = std::make_unique<PeriodicTask>(
        "request-head deadline",
        [registry = registry_.get(), limit = std::chrono::seconds(s.request_header_timeout)] {
            registry->expire_slow_heads(limit);
        },
        std::chrono::seconds(1), /*run_first=*/false);
    head_deadline_->start();
    tcp_->start();   // readiness stays "starting" until the caller has loaded everything
    log::info("listening on ", socket.address().toString(), s.tls_cert_file.empty() ? " (http)" : " (https)");
}

std::uint16_t Server::port() const { return tcp_ ? tcp_->port() : 0; }

void Server::stop(int grace_seconds) {
    if (!tcp_) return;
    if (head_deadline_) head_deadline_->stop();
    set_readiness(Readiness::Stopping);
    tcp_->stop();        // stop accepting; connections already handed out keep running
    registry_->stop();   // idle keep-alive connections close now, busy ones after their request
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(grace_seconds);
    while (tcp_->currentConnections() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (tcp_->currentConnections() > 0) {
        // Idle keep-alive connections or stuck clients: the process exits anyway.
        log::warning(tcp_->currentConnections(), " connections still open after the ", grace_seconds, " s grace period");
        return;
    }
    registry_->set_queue_probe(nullptr);
    tcp_.reset();
    pool_->joinAll();
    pool_.reset();
}

}  // namespace cc
