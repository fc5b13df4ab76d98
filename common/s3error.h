// The one error vocabulary every layer speaks: an S3 error code with its HTTP
// status and a message for a human. Stores raise it for backend failures
// (503, naming the side), the engine for routing problems, the frontend for
// bad requests; the frontend turns it into an S3 error document exactly once.
// Where a backend is (endpoints, storage URLs, accounts, paths) is the
// operator's business, not the client's: it travels in operator_detail, which
// the log shows next to the request id and the error document never does.
#pragma once
#include <stdexcept>
#include <string>

namespace cc {

class S3Error : public std::runtime_error {
public:
    S3Error(int http_status, std::string code, std::string message)
        : std::runtime_error(message), status_(http_status), code_(std::move(code)) {}
    int status() const { return status_; }
    const std::string& code() const { return code_; }
    // Extra element for the error document (e.g. Key, BucketName, ArgumentName); optional.
    std::string detail_name, detail_value;
    // For the log only (see above); optional.
    std::string operator_detail;
private:
    int status_;
    std::string code_;
};

inline S3Error unavailable(const std::string& message, const std::string& operator_detail = {}) {
    S3Error e(503, "ServiceUnavailable", message);
    e.operator_detail = operator_detail;
    return e;
}
// An error as the log tells it: the message, then an S3Error's operator detail.
inline std::string for_log(const std::exception& e) {
    const auto* s3 = dynamic_cast<const S3Error*>(&e);
    if (!s3 || s3->operator_detail.empty()) return e.what();
    return std::string(e.what()) + " [" + s3->operator_detail + "]";
}
inline S3Error invalid_request(const std::string& message) { return S3Error(400, "InvalidRequest", message); }
inline S3Error internal_error(const std::string& message) { return S3Error(500, "InternalError", message); }

}  // namespace cc
