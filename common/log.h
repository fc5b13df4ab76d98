// Logging to stderr (containers collect it), one line per event. Secrets and
// signatures are never passed in here.
#pragma once
#include <sstream>
#include <string>
#include <string_view>

namespace cc::log {

enum class Level { Debug = 0, Info = 1, Warning = 2, Error = 3 };
void set_level(Level level);
Level parse_level(std::string_view name);   // debug|info|warning|warn|error, any case; Info otherwise
bool enabled(Level level);
void write(Level level, std::string_view message);

template <typename... Args>
void emit(Level level, Args&&... args) {
    if (!enabled(level)) return;
    std::ostringstream s;
    (s << ... << args);
    write(level, s.str());
}
template <typename... Args> void debug(Args&&... a) { emit(Level::Debug, std::forward<Args>(a)...); }
template <typename... Args> void info(Args&&... a) { emit(Level::Info, std::forward<Args>(a)...); }
template <typename... Args> void warning(Args&&... a) { emit(Level::Warning, std::forward<Args>(a)...); }
template <typename... Args> void error(Args&&... a) { emit(Level::Error, std::forward<Args>(a)...); }

}  // namespace cc::log
