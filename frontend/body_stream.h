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

#include <cstdint>
#include <istream>
#include <memory>

namespace cc {

// Implemented by the server's HTTP session (frontend/server.cpp).
class SessionReader {
public:
    virtual ~SessionReader() = default;
    // What the session holds, else one receive of at most n bytes; throws Poco::Exception on errors.
    virtual int read_session(char* buffer, std::streamsize n) = 0;
    // How many bytes of the request stream have arrived and wait unread (the
    // session's and the socket's), so that a read of that many does not wait.
    virtual std::size_t arrived() = 0;
};

// The session a request is read from (nullptr for requests not read from one).
SessionReader* session_of(Poco::Net::HTTPServerRequest& http);

// The stream over a session for a body of `length` bytes (what open_body_stream uses).
std::unique_ptr<std::istream> session_body_stream(SessionReader& session, std::uint64_t length);

// A stream over the session for a body with a Content-Length; Poco's own stream for bodies it frames differently (chunked transfer
// encoding, no Content-Length) or requests not read from a session.
std::unique_ptr<std::istream> open_body_stream(Poco::Net::HTTPServerRequest& http);

}  // namespace cc
