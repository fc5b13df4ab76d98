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

#include "frontend/body_stream.h"

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
                                                    Poco::Net::HTTPServerParams::Ptr params, BodyPace pace,
                                                    S3Handler& handler, ConnectionRegistry& registry);

    ClientConnection(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params, BodyPace pace,
                     S3Handler& handler, ConnectionRegistry& registry);
    ~ClientConnection();   // closes the connection
    ClientConnection(const ClientConnection&) = delete;
    ClientConnection& operator=(const ClientConnection&) = delete;

    // Reads and answers one request. Returns false when the connection is done
    // (the client closed it, the response said "Connection: close", an error).
    bool serve_one();

    // Whether a request (or the start of one) has arrived, waiting up to `wait`;
    // false at once when `interrupt` (a descriptor, or -1) becomes readable.
    bool request_arrives(std::chrono::milliseconds wait, int interrupt = -1);

    // What has arrived of the next request (read ahead, never waiting: raw_head.h): a
    // connection gets a thread only once its whole request head is here, so a
    // client sending its head slowly (slowloris) holds none. `Ready` also when
    // there is something else for a thread to see (the client closed, an error,
    // a head too large to wait for) or when the head cannot be looked at (TLS:
    // ciphertext; such heads are read by a thread, under request_header_timeout).
    // TooLarge: no whole head within 64 KiB (refuse_large_head answers it).
    enum class Arrival { Nothing, PartialHead, Ready, TooLarge };
    Arrival arrival();
    // A head that did not arrive within request_header_timeout while the connection
    // waited without a thread: 408, without waiting on the client, then closed.
    void time_out_head();
    // A head larger than any this server waits for: 400 RequestHeaderSectionTooLarge, then closed.
    void refuse_large_head();

    int fd() const;
    bool served_any() const { return served_ > 0; }

    // A connection closed while the client may still be sending (an answer
    // before its body was read, an unparsable head) must not be closed with
    // input unread: that sends a reset, and the client loses the answer. So it
    // stops sending and takes in what still arrives for a while (a lingering
    // close), which the scheduler does without a thread.
    bool wants_lingering_close() const { return linger_; }
    void start_lingering_close();          // no more sending
    bool lingering() const { return lingering_; }
    bool swallow_input();                  // reads and drops what has arrived; false once done (closed, limit)

private:
    void answer_without_waiting(const S3Error& err);
    void lingering_close();   // the same, waiting here (when the scheduler no longer parks connections)
    void reject_malformed(const std::string& why);
    bool head_was_cut_short(std::string consumed);
    void reject(const S3Error& err);

    Poco::Net::StreamSocket socket_;
    Poco::Net::HTTPServerParams::Ptr params_;
    S3Handler& handler_;
    ConnectionRegistry& registry_;
    HeadCapture* capture_ = nullptr;   // the socket's own implementation, on plain connections
    std::unique_ptr<ConnectionSession> session_;
    bool tls_;
    bool linger_ = false;              // close with a lingering close (unread input may follow)
    bool lingering_ = false;           // start_lingering_close() was called
    std::size_t swallowed_ = 0;        // bytes taken in by the lingering close
    std::uint64_t served_ = 0;
};

}  // namespace cc
