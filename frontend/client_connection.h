// One client connection: its socket, its HTTP session, the capture of raw
// request heads, and the serving of one request at a time. It is not tied to
// a thread: between requests it waits in the ConnectionScheduler without one
// (frontend/connection_scheduler.h), and any worker thread serves its next
// request.
//
// Our own request loop rather than Poco's HTTPServer, so that even requests
// Poco cannot parse (oversized headers, garbage request lines) get an S3 error
// document, so that "Expect: 100-continue" is answered by the operation once
// it has decided to read the body, and so that header values reach signing as
// sent (frontend/raw_head.h).
#pragma once
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <memory>
#include <stdexcept>

namespace cc {

class ConnectionRegistry;
class ConnectionSession;
class HeadCapture;
class S3Handler;
class S3Error;

// accept() ran out of descriptors (EMFILE, ENFILE): closing idle connections makes room.
class OutOfDescriptors : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class ClientConnection {
public:
    // The next connection waiting on `listener` (nullptr if it went away before it was
    // accepted). Plain connections are read through a HeadCapture (raw_head.h), which owns
    // the accepted descriptor; TLS ones through Poco's TLS socket.
    static std::unique_ptr<ClientConnection> accept(Poco::Net::ServerSocket& listener,
                                                    Poco::Net::HTTPServerParams::Ptr params, S3Handler& handler,
                                                    ConnectionRegistry& registry);

    ClientConnection(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params, S3Handler& handler,
                     ConnectionRegistry& registry);
    ~ClientConnection();   // closes the connection
    ClientConnection(const ClientConnection&) = delete;
    ClientConnection& operator=(const ClientConnection&) = delete;

    // Reads and answers one request. Returns false when the connection is done
    // (the client closed it, the response said "Connection: close", an error).
    bool serve_one();

    // Whether a request (or the start of one) has arrived, waiting up to `wait`;
    // false at once when `interrupt` (a descriptor, or -1) becomes readable.
    bool request_arrives(std::chrono::milliseconds wait, int interrupt = -1);

    int fd() const;
    bool served_any() const { return served_ > 0; }

private:
    void lingering_close();
    void reject_malformed(const std::string& why);
    void reject(const S3Error& err);

    Poco::Net::StreamSocket socket_;
    Poco::Net::HTTPServerParams::Ptr params_;
    S3Handler& handler_;
    ConnectionRegistry& registry_;
    HeadCapture* capture_ = nullptr;   // the socket's own implementation, on plain connections
    std::unique_ptr<ConnectionSession> session_;
    bool tls_;
    bool linger_ = false;              // close with a lingering close (unread input may follow)
    std::uint64_t served_ = 0;
};

}  // namespace cc
