// Endpoints for operators, answered without authentication:
//   GET /healthcheck  200 "OK" while the process can serve (liveness, as Swift's)
//   GET /readyz       200 once config and users are loaded; 503 while starting or draining
//   GET /metrics      Prometheus text format
// They never collide with buckets named "healthcheck", "readyz" or "metrics":
// only an unsigned request is taken for an operator endpoint, and unsigned
// requests are refused for buckets anyway.
#pragma once
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

namespace cc {

enum class Readiness { Starting, Ready, Stopping };
void set_readiness(Readiness state);

// True when the request was an operator endpoint (and has been answered).
bool serve_operator_endpoint(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);

}  // namespace cc
