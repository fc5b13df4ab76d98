// What the server knows about the connections being served right now: which
// are in the middle of reading a request head (so that one too slow to send it
// can be cut off), and whether the server is stopping (so that responses say
// "Connection: close" and idle connections are not kept).
#pragma once
#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <map>
#include <mutex>

namespace cc {

class ConnectionRegistry {
public:
    // The request head (request line and headers) of `s` is being read from now on.
    void reading_head(Poco::Net::StreamSocket* s);
    // Returns false when the head took too long and was cut off (see expire_slow_heads).
    bool head_read(Poco::Net::StreamSocket* s);
    // A client that takes longer than `limit` to send a request head (slowloris)
    // would hold a thread: its receiving side is shut, which ends the read.
    void expire_slow_heads(std::chrono::seconds limit);
    void closed(Poco::Net::StreamSocket* s);

    void stop();
    bool stopping();

private:
    std::mutex m_;
    std::map<Poco::Net::StreamSocket*, std::chrono::steady_clock::time_point> reading_head_;
    bool stopping_ = false;
};

}  // namespace cc
