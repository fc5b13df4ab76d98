// The request body as a stream that reads the client's socket in large blocks.
//
// Poco's request stream reads a body 4 KiB at a time (its stream buffer and
// its session buffer are both HTTPBufferAllocator::BUFFER_SIZE): one recv()
// and two copies per 4 KiB, 16 000 system calls for a 64 MiB upload. A body
// with a Content-Length is read here instead through the session's own read
// (HTTPSession::read, which the connection's session makes public as
// SessionReader), which hands out what the session already holds (the bytes
// that came in with the request head) and otherwise receives straight into the
// caller's memory, as much as the caller asked for and the body has left. It never reads past the
// body, so a pipelined next request stays in the session for Poco.
//
// Every read of a request's body goes through one stream (S3Request::body()):
// mixing it with Poco's stream would lose track of where the body ends.
#pragma once
#include <Poco/Net/HTTPServerRequest.h>

#include <chrono>
#include <cstdint>
#include <istream>
#include <memory>

namespace cc {

// How slowly a request body may arrive, so that a client cannot hold a request
// thread by sending its body a few bytes at a time: the first bytes within
// `first_bytes`, and the allowance grows by a second per `min_rate` bytes
// received (as Apache's mod_reqtimeout "body=20,MinRate=500"). A body that
// falls behind ends the request with 400 RequestTimeout. min_rate 0: no pace
// (only the session's per-read timeout).
struct BodyPace {
    std::chrono::seconds first_bytes{20};
    std::uint64_t min_rate = 500;   // bytes per second
    std::chrono::seconds idle{60};  // and never longer than this without a byte, whatever the allowance
};

// Implemented by the server's HTTP session (frontend/client_connection.cpp).
class SessionReader {
public:
    virtual ~SessionReader() = default;
    // What the session holds, else one receive of at most n bytes; throws Poco::Exception on errors.
    virtual int read_session(char* buffer, std::streamsize n) = 0;
    // How many bytes of the request stream have arrived and wait unread (the
    // session's and the socket's), so that a read of that many does not wait.
    virtual std::size_t arrived() = 0;
    // Waits until more input arrives (true), or until `until` (false).
    virtual bool wait_for_input(std::chrono::steady_clock::time_point until) = 0;
    virtual BodyPace body_pace() const = 0;
};

// The session a request is read from (nullptr for requests not read from one).
SessionReader* session_of(Poco::Net::HTTPServerRequest& http);

// The stream over a session for a body of `length` bytes (what open_body_stream uses).
// Reading it throws S3Error RequestTimeout when the body falls behind the session's pace.
std::unique_ptr<std::istream> session_body_stream(SessionReader& session, std::uint64_t length);

// A stream over the session for a body with a Content-Length; Poco's own stream for bodies it frames differently (chunked transfer
// encoding, no Content-Length) or requests not read from a session.
std::unique_ptr<std::istream> open_body_stream(Poco::Net::HTTPServerRequest& http);

}  // namespace cc
