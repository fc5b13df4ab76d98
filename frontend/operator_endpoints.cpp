#include "frontend/operator_endpoints.h"

#include <atomic>

#include "common/metrics.h"

namespace cc {
namespace {

std::atomic<Readiness> g_readiness{Readiness::Starting};

void answer(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp, int status,
            const std::string& content_type, const std::string& body) {
    resp.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    resp.setContentType(content_type);
    resp.setContentLength64(static_cast<Poco::Int64>(body.size()));
    std::ostream& out = resp.send();
    if (req.getMethod() != "HEAD") out.write(body.data(), static_cast<std::streamsize>(body.size()));
}

bool unsigned_request(const Poco::Net::HTTPServerRequest& req, const std::string& query) {
    if (req.has("Authorization")) return false;
    return query.find("X-Amz-") == std::string::npos && query.find("AWSAccessKeyId") == std::string::npos &&
           query.find("Signature") == std::string::npos;
}

}  // namespace

void set_readiness(Readiness state) { g_readiness = state; }

bool serve_operator_endpoint(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp) {
    if (req.getMethod() != "GET" && req.getMethod() != "HEAD") return false;
    const std::string& uri = req.getURI();
    const auto q = uri.find('?');
    const std::string path = uri.substr(0, q);
    if (path != "/healthcheck" && path != "/readyz" && path != "/metrics") return false;
    if (!unsigned_request(req, q == std::string::npos ? "" : uri.substr(q + 1))) return false;

    if (path == "/healthcheck") {
        answer(req, resp, 200, "text/plain", "OK");
    } else if (path == "/readyz") {
        switch (g_readiness.load()) {
            case Readiness::Ready: answer(req, resp, 200, "text/plain", "ready"); break;
            case Readiness::Starting: answer(req, resp, 503, "text/plain", "starting"); break;
            case Readiness::Stopping: answer(req, resp, 503, "text/plain", "stopping"); break;
        }
    } else {
        answer(req, resp, 200, "text/plain; version=0.0.4", metrics::render());
    }
    return true;
}

}  // namespace cc
