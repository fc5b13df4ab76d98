// The HTTP listener: Poco's TCPServer with our own connection loop, so that
// even requests Poco cannot parse (oversized headers, garbage request lines)
// get an S3 error document, and so that "Expect: 100-continue" is answered by
// the operation once it has decided to read the body.
#pragma once
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/ThreadPool.h>

#include <memory>

#include "engine/gateway.h"
#include "frontend/s3_handler.h"

namespace cc {

class ConnectionRegistry;
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
    std::unique_ptr<Poco::ThreadPool> pool_;
    std::unique_ptr<Poco::Net::TCPServer> tcp_;
    std::unique_ptr<PeriodicTask> head_deadline_;   // closes connections slow to send a request head
};

}  // namespace cc
