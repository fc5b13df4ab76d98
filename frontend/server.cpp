#include "frontend/server.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>

#include <chrono>
#include <thread>

#include "common/log.h"
#include "engine/periodic_task.h"
#include "frontend/client_connection.h"
#include "frontend/connection_registry.h"
#include "frontend/connection_scheduler.h"
#include "frontend/operator_endpoints.h"

namespace cc {
namespace {

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
    params->setKeepAlive(true);
    params->setMaxKeepAliveRequests(0);                       // unlimited (the connection loop never limits them)
    params->setKeepAliveTimeout(Poco::Timespan(s.keep_alive_timeout, 0));
    params->setTimeout(Poco::Timespan(s.client_timeout, 0));  // no byte moving for this long, either way: dropped
    params->setServerName("cloud-connector");

    Poco::Net::SocketAddress addr(s.bind_ip, static_cast<Poco::UInt16>(s.bind_port));
    // SO_REUSEADDR for quick restarts, but never SO_REUSEPORT (Poco's default
    // with reuseAddress): it would let two servers silently share the port.
    Poco::Net::ServerSocket socket;
    if (!s.tls_cert_file.empty()) socket = Poco::Net::SecureServerSocket(tls_context(s));
    try {
        socket.bind(addr, /*reuseAddress=*/true, /*reusePort=*/false);
        socket.listen(1024);
    } catch (const Poco::Exception& e) {
        throw std::runtime_error("[DEFAULT] bind_ip/bind_port: cannot listen on " + addr.toString() + ": " +
                                 e.displayText());
    }
    SchedulerLimits limits;
    limits.max_threads = s.max_threads;
    limits.first_request_timeout = std::chrono::seconds(60);
    limits.keep_alive_timeout = std::chrono::seconds(s.keep_alive_timeout);
    limits.request_header_timeout = std::chrono::seconds(s.request_header_timeout);
    scheduler_ = std::make_unique<ConnectionScheduler>(
        socket,
        [this, params, pace = BodyPace{std::chrono::seconds(s.request_body_timeout),
                                       static_cast<std::uint64_t>(s.request_body_min_rate),
                                       std::chrono::seconds(params->getTimeout().totalSeconds())}](
            Poco::Net::ServerSocket& listener) {
            return ClientConnection::accept(listener, params, pace, handler_, *registry_);
        },
        limits);
    head_deadline_ = std::make_unique<PeriodicTask>(
        "request-head deadline",
        [registry = registry_.get(), limit = std::chrono::seconds(s.request_header_timeout)] {
            registry->expire_slow_heads(limit);
        },
        std::chrono::seconds(1), /*run_first=*/false);
    head_deadline_->start();
    scheduler_->start();   // readiness stays "starting" until the caller has loaded everything
    log::info("listening on ", socket.address().toString(), s.tls_cert_file.empty() ? " (http)" : " (https)");
}

std::uint16_t Server::port() const { return scheduler_ ? scheduler_->port() : 0; }

void Server::stop(int grace_seconds) {
    if (!scheduler_) return;
    set_readiness(Readiness::Stopping);
    registry_->stop();             // from now on responses say "Connection: close"
    scheduler_->stop_accepting();  // and idle keep-alive connections close now; busy ones after their request
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(grace_seconds);
    while (scheduler_->busy() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (scheduler_->busy() > 0) {
        // Stuck clients or backends: the process exits anyway.
        log::warning(scheduler_->busy(), " connections still busy after the ", grace_seconds, " s grace period");
        return;
    }
    if (head_deadline_) head_deadline_->stop();
    scheduler_.reset();
}

}  // namespace cc
