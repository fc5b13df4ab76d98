#include "common/metrics.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <sstream>

namespace cc::metrics {
namespace {

struct Family {
    const char* name;
    const char* type;
    const char* help;
    bool unlabeled = false;   // one series without labels, shown as 0 before its first sample
};

// Every family the connector exposes, with its documentation (docs/operations.md).
constexpr Family kFamilies[] = {
    {"cc_requests_total", "counter", "S3 requests answered, by operation and HTTP status"},
    {"cc_request_duration_seconds", "histogram", "Time to answer a request, by operation"},
    {"cc_bytes_in_total", "counter", "Object bytes received from clients", true},
    {"cc_bytes_out_total", "counter", "Object bytes sent to clients", true},
    {"cc_answered_by_total", "counter", "Object reads by the store that answered (local, remote)"},
    {"cc_backend_errors_total", "counter", "Backend failures by side and kind (connect, timeout, http5xx, refused)"},
    {"cc_open_connections", "gauge", "Client connections currently open", true},
    {"cc_slow_request_heads_closed_total", "counter",
     "Connections closed because their request line and headers took longer than request_header_timeout", true},
    {"cc_idle_connections", "gauge", "Keep-alive connections waiting for their next request, without a thread", true},
    {"cc_queued_connections", "gauge", "Connections whose request waits for a free request thread", true},
    {"cc_request_threads", "gauge", "Request threads running (at most max_threads)", true},
    {"cc_idle_connections_evicted_total", "counter",
     "Idle keep-alive connections closed because the process ran out of file descriptors", true},
    {"cc_config_reloads_total", "counter", "User database / mapping versions swapped in", true},
    {"cc_config_reload_failures_total", "counter", "Reloads that found a broken new version", true},
    {"cc_writeback_queue_depth", "gauge", "Objects waiting for write-back delivery", true},
    {"cc_writeback_oldest_age_seconds", "gauge", "Age of the oldest write-back still waiting", true},
    {"cc_cache_fills_total", "counter", "Cache fills by result (stored, abandoned)"},
    {"cc_index_routed_reads_total", "counter",
     "Reads sent to the remote store first (read_routing = index), by the store that answered (remote, local, none)"},
    {"cc_index_degraded_listings_total", "counter", "Listings served from a stale index because a store failed"},
    {"cc_index_staleness_seconds", "gauge", "Age of the last completed index refresh, as of the last refresh round"},
};

constexpr std::array<double, 14> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,  0.5,    1,     2.5,  5,     10,  30};

struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> counts{};
    std::uint64_t count = 0;
    double sum = 0;
};

std::mutex g_mutex;
std::map<std::string, std::map<std::string, double>, std::less<>> g_values;
std::map<std::string, std::map<std::string, Histogram>, std::less<>> g_histograms;

std::string escape(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') { out += "\\n"; continue; }
        out += c;
    }
    return out;
}

std::string label_text(const Labels& labels) {
    if (labels.empty()) return {};
    std::string out = "{";
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i) out += ',';
        out += labels[i].first + "=\"" + escape(labels[i].second) + "\"";
    }
    return out + "}";
}

std::string number(double v) {
    if (std::isinf(v)) return "+Inf";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

// "{a="1"}" + le -> "{a="1",le="0.5"}"
std::string with_le(const std::string& labels, const std::string& le) {
    if (labels.empty()) return "{le=\"" + le + "\"}";
    return labels.substr(0, labels.size() - 1) + ",le=\"" + le + "\"}";
}

}  // namespace

void add(std::string_view counter, const Labels& labels, double value) {
    std::lock_guard lock(g_mutex);
    auto it = g_values.find(counter);
    if (it == g_values.end()) it = g_values.emplace(std::string(counter), std::map<std::string, double>{}).first;
    it->second[label_text(labels)] += value;
}

void set(std::string_view gauge, const Labels& labels, double value) {
    std::lock_guard lock(g_mutex);
    auto it = g_values.find(gauge);
    if (it == g_values.end()) it = g_values.emplace(std::string(gauge), std::map<std::string, double>{}).first;
    it->second[label_text(labels)] = value;
}

void observe(std::string_view histogram, const Labels& labels, double value) {
    std::lock_guard lock(g_mutex);
    auto it = g_histograms.find(histogram);
    if (it == g_histograms.end())
        it = g_histograms.emplace(std::string(histogram), std::map<std::string, Histogram>{}).first;
    Histogram& h = it->second[label_text(labels)];
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
        if (value <= kBuckets[i]) ++h.counts[i];
    ++h.count;
    h.sum += value;
}

std::string render() {
    std::lock_guard lock(g_mutex);
    std::ostringstream out;
    for (const Family& f : kFamilies) {
        out << "# HELP " << f.name << ' ' << f.help << "\n# TYPE " << f.name << ' ' << f.type << '\n';
        if (std::string_view(f.type) == "histogram") {
            auto it = g_histograms.find(f.name);
            if (it == g_histograms.end()) continue;
            for (const auto& [labels, h] : it->second) {
                for (std::size_t i = 0; i < kBuckets.size(); ++i)
                    out << f.name << "_bucket" << with_le(labels, number(kBuckets[i])) << ' ' << h.counts[i] << '\n';
                out << f.name << "_bucket" << with_le(labels, "+Inf") << ' ' << h.count << '\n';
                out << f.name << "_sum" << labels << ' ' << number(h.sum) << '\n';
                out << f.name << "_count" << labels << ' ' << h.count << '\n';
            }
            continue;
        }
        auto it = g_values.find(f.name);
        if (it == g_values.end()) {
            if (f.unlabeled) out << f.name << " 0\n";
            continue;
        }
        for (const auto& [labels, v] : it->second) out << f.name << labels << ' ' << number(v) << '\n';
    }
    return out.str();
}

}  // namespace cc::metrics
