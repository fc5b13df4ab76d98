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
#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <memory>

namespace cc {

class ConnectionRegistry;
class ConnectionSession;
class HeadCapture;
class S3Handler;
class S3Error;

class ClientConnection {
public:
    ClientConnection(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params, S3Handler& handler,
                     ConnectionRegistry& registry);
    ~ClientConnection();   // closes the connection
    ClientConnection(const ClientConnection&) = delete;
    ClientConnection& operator=(const ClientConnection&) = delete;

    // Reads and answers one request. Returns false when the connection is done
    // (the client closed it, the response said "Connection: close", an error).
    bool serve_one();

    // Whether a request (or the start of one) has arrived, waiting up to `wait`.
    bool request_arrives(std::chrono::milliseconds wait);

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
    HeadCapture* capture_ = nullptr;   // owned by the session's socket
    std::unique_ptr<ConnectionSession> session_;
    bool tls_;
    bool linger_ = false;              // close with a lingering close (unread input may follow)
    std::uint64_t served_ = 0;
};

}  // namespace cc
