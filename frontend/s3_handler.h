// The request path, start to finish, as one straight line:
//   parse -> authenticate -> classify -> resolve the mapping -> operation (stores) -> respond
// plus the one place where S3Error becomes an error document.
#pragma once
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "engine/gateway.h"

namespace cc {

class S3Handler {
public:
    explicit S3Handler(Gateway& gateway) : gateway_(gateway) {}
    void handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);
private:
    Gateway& gateway_;
};

std::string new_request_id();
std::string host_id();

}  // namespace cc
