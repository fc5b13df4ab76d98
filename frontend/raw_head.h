// Header values exactly as the client sent them.
//
// Poco's MessageHeader::read() decodes RFC 2047 encoded words ("=?UTF-8?B?...?=")
// in every header value and drops a stray "=?" — but SigV4 signs the bytes as
// sent, and S3 stores metadata values as sent. So the connection keeps a copy
// of the bytes of each request head as they arrive (HeadCapture, a socket
// implementation over a dup of the connection's descriptor) and, where Poco
// changed a value, puts the sent value back (restore_raw_header_values).
#pragma once
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/StreamSocketImpl.h>

#include <optional>
#include <string>
#include <string_view>

namespace cc {

class HeadCapture : public Poco::Net::StreamSocketImpl {
public:
    explicit HeadCapture(poco_socket_t fd) : StreamSocketImpl(fd) {}
    // Bytes read ahead (read_ahead) are handed out first, then the socket's.
    int receiveBytes(void* buffer, int length, int flags = 0) override;
    int available() override;   // read ahead + waiting in the socket

    // Receives what has arrived, without waiting, into the bytes handed out first:
    // the connection looks at a request head before a thread reads it
    // (ClientConnection::arrival), and the session then takes the same bytes from
    // here without another system call. Returns what recv(2) returned.
    long read_ahead();
    std::string_view ahead() const { return ahead_; }
    // From now on, keep what arrives. `held` is how many received bytes Poco's session
    // still holds unread (a pipelined request's start): they are taken from the last
    // fill of its buffer. Returns false if those bytes are not known.
    bool start(std::size_t held);
    std::string stop();         // what arrived since start() (with the held bytes); empty if it outgrew the limit
    // The `held` bytes Poco's session still holds unread (the tail of its last fill);
    // nullopt if they are not known.
    std::optional<std::string_view> held(std::size_t held) const;
private:
    static constexpr std::size_t kLimit = 1u << 20;   // beyond any head Poco accepts
    std::string captured_;
    // Bytes the session's buffer was last filled with. Poco's session reads into its buffer
    // exactly HTTPBufferAllocator::BUFFER_SIZE at a time, and only when the buffer is empty,
    // so whatever the session holds unread is the tail of its last fill.
    std::string last_fill_;
    std::string ahead_;
    bool capturing_ = false, overflow_ = false;
};

// `head` is the request line and header lines as received (up to the empty
// line). Values Poco decoded are replaced by the raw ones; a head that does not
// parse the way Poco parsed it is left alone.
void restore_raw_header_values(Poco::Net::MessageHeader& headers, std::string_view head);

// Whether `head` ends with the empty line that ends a request head (CRLF or bare LF).
bool head_complete(std::string_view head);
// Whether `received` (the start of a request, more may follow) holds a whole request
// head: a request line read as Poco reads it, then the empty line after it. When
// it says yes, Poco's reading of the head cannot wait for more bytes.
bool holds_whole_head(std::string_view received);

}  // namespace cc
