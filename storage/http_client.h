// Every outbound HTTP request goes through here: libcurl, one easy handle per
// thread, reused across requests so connections to the backends stay warm.
// Bodies stream both ways through BodySource / BodySink.
#pragma once
#include <functional>
#include <string>

#include "storage/object_store.h"

namespace cc {

struct HttpTimeouts {
    long connect_seconds = 5;
    long stall_seconds = 60;          // no progress for this long = the backend is down
};

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    HeaderList headers;               // sent as given (curl adds nothing we sign)
    BodySource* body = nullptr;       // upload body, Content-Length = body->length()
    HttpTimeouts timeouts;
};

struct HttpResponse {
    int status = 0;
    HeaderList headers;               // names lower-cased, in order
    std::string body;                 // the body, when it was not streamed to a sink (capped at 1 MiB)
    const std::string* header(std::string_view lower_name) const;
};

// Thrown when no HTTP answer came back (refused, reset, timed out).
class TransportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Performs the request. Once the status line and headers are in, stream_to()
// decides where the body goes: a sink to stream it to, or nullptr to keep it
// in response.body. Exceptions thrown by the body source, the sink or
// stream_to abort the transfer and are rethrown here.
HttpResponse http_perform(const HttpRequest& req,
                          const std::function<BodySink*(const HttpResponse&)>& stream_to = {});

// Call once at start-up, before any thread uses http_perform.
void http_global_init();

}  // namespace cc
