// Credentials for the config bucket: static keys from the environment, or an
// ECS task role (temporary keys with a session token, refreshed before expiry).
#pragma once
#include <memory>
#include <mutex>
#include <string>

#include "storage/s3_store.h"

namespace cc {

// Fetches from http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (or
// AWS_CONTAINER_CREDENTIALS_FULL_URI, as the AWS SDKs also accept), caching the
// keys until five minutes before their Expiration.
class EcsCredentialProvider {
public:
    explicit EcsCredentialProvider(std::string url, std::string auth_token = "");
    Credentials get();   // throws S3Error(503) if the endpoint cannot be reached
private:
    void refresh_locked();
    std::mutex mutex_;
    std::string url_, auth_token_;
    Credentials current_;
    std::time_t expires_ = 0;
};

// From the process environment; throws std::runtime_error naming the missing variable.
CredentialSource credentials_from_environment();

}  // namespace cc
