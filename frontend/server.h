// The HTTP listener: the listening socket (plain or TLS), the connection
// scheduler that hands connections with a request to the request threads
// (frontend/connection_scheduler.h), and the request-head deadline.
#pragma once
#include <cstdint>
#include <memory>

#include "engine/gateway.h"
#include "frontend/s3_handler.h"

namespace cc {

class ConnectionRegistry;
class ConnectionScheduler;
class PeriodicTask;

class Server {
public:
    explicit Server(Gateway& gateway);
    ~Server();
    void start();          // binds settings.bind_ip:bind_port; throws on failure
    // Stops accepting, then waits up to grace_seconds for requests in flight.
    void stop(int grace_seconds);
    std::uint16_t port() const;
private:
    Gateway& gateway_;
    S3Handler handler_;
    std::unique_ptr<ConnectionRegistry> registry_;
    std::unique_ptr<ConnectionScheduler> scheduler_;
    std::unique_ptr<PeriodicTask> head_deadline_;   // closes connections slow to send a request head
};

}  // namespace cc
