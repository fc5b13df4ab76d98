#include "engine/credentials.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cstdlib>
#include <stdexcept>

#include "common/log.h"
#include "common/timefmt.h"
#include "storage/http_client.h"

namespace cc {

EcsCredentialProvider::EcsCredentialProvider(std::string url, std::string auth_token)
    : url_(std::move(url)), auth_token_(std::move(auth_token)) {}

void EcsCredentialProvider::refresh_locked() {
    HttpRequest req;
    req.url = url_;
    if (!auth_token_.empty()) req.headers.emplace_back("Authorization", auth_token_);
    HttpResponse resp;
    try {
        resp = http_perform(req);
    } catch (const TransportError& e) {
        throw unavailable(std::string("cannot fetch the local store's task-role credentials: ") + e.what(), url_);
    }
    if (resp.status != 200)
        throw unavailable("the local store's task-role credential endpoint answered HTTP " + std::to_string(resp.status),
                          url_);
    try {
        Poco::JSON::Parser parser;
        auto obj = parser.parse(resp.body).extract<Poco::JSON::Object::Ptr>();
        Credentials c;
        c.access_key = obj->getValue<std::string>("AccessKeyId");
        c.secret_key = obj->getValue<std::string>("SecretAccessKey");
        c.session_token = obj->has("Token") ? obj->getValue<std::string>("Token") : "";
        auto exp = obj->has("Expiration") ? parse_iso8601(obj->getValue<std::string>("Expiration")) : std::nullopt;
        current_ = c;
        expires_ = exp.value_or(std::time(nullptr) + 3600);
        log::info("task-role credentials refreshed; valid until ", iso8601(expires_));
    } catch (const Poco::Exception& e) {
        throw unavailable("the local store's task-role credential endpoint sent unusable JSON", url_ + ": " + e.displayText());
    }
}

Credentials EcsCredentialProvider::get() {
    std::lock_guard lock(mutex_);
    // Refresh five minutes early so no request is signed with keys about to lapse.
    if (current_.access_key.empty() || std::time(nullptr) + 300 >= expires_) refresh_locked();
    return current_;
}

CredentialSource credentials_from_environment() {
    const char* ak = std::getenv("AWS_ACCESS_KEY_ID");
    const char* sk = std::getenv("AWS_SECRET_ACCESS_KEY");
    if (ak && *ak && sk && *sk) {
        Credentials c{ak, sk, ""};
        if (const char* tok = std::getenv("AWS_SESSION_TOKEN")) c.session_token = tok;
        return [c] { return c; };
    }
    std::string url;
    if (const char* rel = std::getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel && *rel)
        url = std::string("http://169.254.170.2") + rel;
    else if (const char* full = std::getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"); full && *full)
        url = full;
    if (url.empty()) {
        if (ak && *ak) throw std::runtime_error("AWS_SECRET_ACCESS_KEY: missing (AWS_ACCESS_KEY_ID is set)");
        throw std::runtime_error(
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: missing, and no AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
            "(task role) either: the config bucket cannot be read");
    }
    const char* token = std::getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    auto provider = std::make_shared<EcsCredentialProvider>(url, token ? token : "");
    return [provider] { return provider->get(); };
}

}  // namespace cc
