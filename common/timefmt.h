// The time formats S3 speaks: ISO 8601 basic (x-amz-date), ISO 8601 extended
// with milliseconds (listings), and RFC 1123 (HTTP Date / Last-Modified).
#pragma once
#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace cc {

std::string amz_date(std::time_t t);         // 20130524T000000Z
std::string amz_day(std::time_t t);          // 20130524
std::string iso8601(std::time_t t);          // 2013-05-24T00:00:00.000Z
std::string http_date(std::time_t t);        // Fri, 24 May 2013 00:00:00 GMT

// Last-Modified has whole seconds. Stores that make their own (Swift, the file store)
// round up, so that a client comparing it with its file's sub-second mtime (aws s3
// sync, rclone) never sees the stored copy as older than the file it came from.
std::time_t seconds_rounded_up(std::chrono::system_clock::time_point t);

// Parsers return nullopt on anything malformed. http_date accepts RFC 1123,
// RFC 850 and asctime, as HTTP/1.1 requires of recipients.
std::optional<std::time_t> parse_amz_date(std::string_view s);
std::optional<std::time_t> parse_iso8601(std::string_view s);   // with or without .mmm
std::optional<std::time_t> parse_http_date(std::string_view s);

}  // namespace cc
