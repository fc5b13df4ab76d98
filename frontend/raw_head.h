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

#include <string>
#include <string_view>

namespace cc {

class HeadCapture : public Poco::Net::StreamSocketImpl {
public:
    explicit HeadCapture(poco_socket_t fd) : StreamSocketImpl(fd) {}
    int receiveBytes(void* buffer, int length, int flags = 0) override;
    void start();               // from now on, keep what arrives
    std::string stop();         // what arrived since start(); empty if it outgrew the limit
private:
    static constexpr std::size_t kLimit = 1u << 20;   // beyond any head Poco accepts
    std::string captured_;
    bool capturing_ = false, overflow_ = false;
};

// `head` is the request line and header lines as received (up to the empty
// line). Values Poco decoded are replaced by the raw ones; a head that does not
// parse the way Poco parsed it is left alone.
void restore_raw_header_values(Poco::Net::MessageHeader& headers, std::string_view head);

// Whether `head` ends with the empty line that ends a request head (CRLF or bare LF).
bool head_complete(std::string_view head);

}  // namespace cc
