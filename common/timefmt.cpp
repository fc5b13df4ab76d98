#include "common/timefmt.h"

#include <cstdio>
#include <stdexcept>

namespace cc {

namespace {

constexpr const char* kDays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kLongDays[7] = {"Sunday", "Monday", "Tuesday", "Wednesday",
                                      "Thursday", "Friday", "Saturday"};
constexpr const char* kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::tm utc(std::time_t t) {
    std::tm tm{};
    if (gmtime_r(&t, &tm) == nullptr) throw std::out_of_range("time value out of range");
    return tm;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
    static constexpr int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

// Builds a UTC time from validated fields; offset_seconds is the zone's
// offset east of UTC (subtracted to get UTC).
std::optional<std::time_t> make_time(int year, int month, int day, int hour, int minute,
                                     int second, long offset_seconds = 0) {
    if (year < 1 || year > 9999) return std::nullopt;
    if (month < 1 || month > 12) return std::nullopt;
    if (day < 1 || day > days_in_month(year, month)) return std::nullopt;
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return std::nullopt;
    if (second < 0 || second > 60) return std::nullopt;   // 60: leap second
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    std::time_t t = timegm(&tm);
    return t - offset_seconds;
}

// A tiny cursor over the input for the hand-written parsers.
struct Cursor {
    std::string_view s;
    std::size_t i = 0;

    bool eof() const { return i >= s.size(); }
    bool lit(char c) {
        if (i < s.size() && s[i] == c) { ++i; return true; }
        return false;
    }
    // Exactly n digits.
    bool digits(std::size_t n, int& out) { return digits_range(n, n, out); }
    // Between min and max digits (greedy).
    bool digits_range(std::size_t min, std::size_t max, int& out) {
        std::size_t k = 0;
        int v = 0;
        while (k < max && i + k < s.size() && s[i + k] >= '0' && s[i + k] <= '9') {
            v = v * 10 + (s[i + k] - '0');
            ++k;
        }
        if (k < min) return false;
        i += k;
        out = v;
        return true;
    }
    std::string_view word() {
        std::size_t start = i;
        while (i < s.size() && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z'))) ++i;
        return s.substr(start, i - start);
    }
    // At least one space or tab.
    bool spaces() {
        std::size_t start = i;
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        return i > start;
    }
};

int month_index(std::string_view name) {
    for (int m = 0; m < 12; ++m)
        if (iequals(name, kMonths[m])) return m + 1;
    return 0;
}

bool is_short_day(std::string_view name) {
    for (auto d : kDays)
        if (iequals(name, d)) return true;
    return false;
}

bool is_long_day(std::string_view name) {
    for (auto d : kLongDays)
        if (iequals(name, d)) return true;
    return false;
}

bool parse_hms(Cursor& c, int& h, int& m, int& s) {
    return c.digits(2, h) && c.lit(':') && c.digits(2, m) && c.lit(':') && c.digits(2, s);
}

// "GMT", "UT", "UTC", "Z" or a numeric "+hhmm" / "-hhmm"; returns the offset
// east of UTC in seconds.
bool parse_zone(Cursor& c, long& offset) {
    offset = 0;
    if (c.i < c.s.size() && (c.s[c.i] == '+' || c.s[c.i] == '-')) {
        bool neg = c.s[c.i] == '-';
        ++c.i;
        int hh, mm;
        if (!c.digits(2, hh) || !c.digits(2, mm)) return false;
        if (hh > 23 || mm > 59) return false;
        offset = (hh * 3600L + mm * 60L) * (neg ? -1 : 1);
        return true;
    }
    std::string_view z = c.word();
    return iequals(z, "GMT") || iequals(z, "UT") || iequals(z, "UTC") || iequals(z, "Z");
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// RFC 1123 (also RFC 5322: one- or two-digit day, numeric zone, optional
// day name): "Sun, 06 Nov 1994 08:49:37 GMT". The cursor sits after "Sun,".
std::optional<std::time_t> parse_rfc1123_body(Cursor& c) {
    c.spaces();
    int day, year, h, m, s;
    if (!c.digits_range(1, 2, day) || !c.spaces()) return std::nullopt;
    int month = month_index(c.word());
    if (!month || !c.spaces()) return std::nullopt;
    std::size_t before = c.i;
    if (!c.digits_range(2, 4, year)) return std::nullopt;
    std::size_t ndigits = c.i - before;
    if (ndigits == 3) return std::nullopt;
    if (ndigits == 2) year = year < 70 ? 2000 + year : 1900 + year;   // RFC 822 two-digit year
    if (!c.spaces()) return std::nullopt;
    if (!parse_hms(c, h, m, s) || !c.spaces()) return std::nullopt;
    long offset;
    if (!parse_zone(c, offset) || !c.eof()) return std::nullopt;
    return make_time(year, month, day, h, m, s, offset);
}

// RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT". The cursor sits after "Sunday,".
std::optional<std::time_t> parse_rfc850_body(Cursor& c) {
    c.spaces();
    int day, yy, h, m, s;
    if (!c.digits(2, day) || !c.lit('-')) return std::nullopt;
    int month = month_index(c.word());
    if (!month || !c.lit('-')) return std::nullopt;
    std::size_t before = c.i;
    if (!c.digits_range(2, 4, yy)) return std::nullopt;
    std::size_t ndigits = c.i - before;
    int year;
    if (ndigits == 2) year = yy < 70 ? 2000 + yy : 1900 + yy;
    else if (ndigits == 4) year = yy;
    else return std::nullopt;
    if (!c.spaces() || !parse_hms(c, h, m, s) || !c.spaces()) return std::nullopt;
    long offset;
    if (!parse_zone(c, offset) || !c.eof()) return std::nullopt;
    return make_time(year, month, day, h, m, s, offset);
}

// asctime: "Sun Nov  6 08:49:37 1994". The cursor sits after "Sun".
std::optional<std::time_t> parse_asctime_body(Cursor& c) {
    int day, year, h, m, s;
    if (!c.spaces()) return std::nullopt;
    int month = month_index(c.word());
    if (!month || !c.spaces()) return std::nullopt;
    if (!c.digits_range(1, 2, day) || !c.spaces()) return std::nullopt;
    if (!parse_hms(c, h, m, s) || !c.spaces()) return std::nullopt;
    if (!c.digits(4, year) || !c.eof()) return std::nullopt;
    return make_time(year, month, day, h, m, s);
}

}  // namespace

std::string amz_date(std::time_t t) {
    std::tm tm = utc(t);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::string amz_day(std::time_t t) {
    std::tm tm = utc(t);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    return buf;
}

std::string iso8601(std::time_t t) {
    std::tm tm = utc(t);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::string http_date(std::time_t t) {
    std::tm tm = utc(t);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                  tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

std::optional<std::time_t> parse_amz_date(std::string_view s) {
    if (s.size() != 16) return std::nullopt;
    Cursor c{s};
    int y, mo, d, h, mi, se;
    if (!c.digits(4, y) || !c.digits(2, mo) || !c.digits(2, d) || !c.lit('T') ||
        !c.digits(2, h) || !c.digits(2, mi) || !c.digits(2, se) || !c.lit('Z') || !c.eof())
        return std::nullopt;
    return make_time(y, mo, d, h, mi, se);
}

std::optional<std::time_t> parse_iso8601(std::string_view s) {
    Cursor c{s};
    int y, mo, d, h, mi, se;
    if (!c.digits(4, y) || !c.lit('-') || !c.digits(2, mo) || !c.lit('-') || !c.digits(2, d) ||
        !c.lit('T') || !c.digits(2, h) || !c.lit(':') || !c.digits(2, mi) || !c.lit(':') ||
        !c.digits(2, se))
        return std::nullopt;
    if (c.lit('.')) {
        std::size_t start = c.i;
        while (!c.eof() && s[c.i] >= '0' && s[c.i] <= '9') ++c.i;
        if (c.i == start) return std::nullopt;   // '.' needs at least one digit
    }
    long offset = 0;
    if (c.lit('Z')) {
        // UTC
    } else if (!c.eof() && (s[c.i] == '+' || s[c.i] == '-')) {
        bool neg = s[c.i] == '-';
        ++c.i;
        int oh, om;
        if (!c.digits(2, oh)) return std::nullopt;
        c.lit(':');
        if (!c.digits(2, om) || oh > 23 || om > 59) return std::nullopt;
        offset = (oh * 3600L + om * 60L) * (neg ? -1 : 1);
    } else {
        return std::nullopt;
    }
    if (!c.eof()) return std::nullopt;
    return make_time(y, mo, d, h, mi, se, offset);
}

std::optional<std::time_t> parse_http_date(std::string_view input) {
    std::string_view s = trim(input);
    Cursor c{s};
    if (!c.eof() && s[0] >= '0' && s[0] <= '9') return parse_rfc1123_body(c);  // no day name
    std::string_view day = c.word();
    if (c.lit(',')) {
        if (is_short_day(day)) return parse_rfc1123_body(c);
        if (is_long_day(day)) return parse_rfc850_body(c);
        return std::nullopt;
    }
    if (is_short_day(day)) return parse_asctime_body(c);
    return std::nullopt;
}

std::time_t seconds_rounded_up(std::chrono::system_clock::time_point t) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
    return static_cast<std::time_t>((us + 999999) / 1000000);
}

}  // namespace cc
