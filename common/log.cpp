#include "common/log.h"

#include <atomic>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace cc::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::Info)};
std::mutex g_mutex;
const char* name_of(Level l) {
    switch (l) {
        case Level::Debug: return "DEBUG";
        case Level::Info: return "INFO";
        case Level::Warning: return "WARNING";
        default: return "ERROR";
    }
}
}  // namespace

void set_level(Level level) { g_level = static_cast<int>(level); }

Level parse_level(std::string_view name) {
    std::string n;
    for (char c : name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (n == "debug") return Level::Debug;
    if (n == "warning" || n == "warn") return Level::Warning;
    if (n == "error") return Level::Error;
    return Level::Info;
}

bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view message) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm t{};
    gmtime_r(&ts.tv_sec, &t);
    char stamp[96];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900, t.tm_mon + 1,
                  t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, static_cast<int>(ts.tv_nsec / 1000000) % 1000);
    std::lock_guard lock(g_mutex);
    std::fprintf(stderr, "%s %s %.*s\n", stamp, name_of(level), static_cast<int>(message.size()), message.data());
    std::fflush(stderr);
}

}  // namespace cc::log
