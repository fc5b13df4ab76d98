// Process-wide metrics in Prometheus text format. Counters and histograms
// live as long as the process, so they survive config reloads. Families are
// declared once (name, type, help); samples are keyed by their label set.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cc::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

void add(std::string_view counter, const Labels& labels, double value = 1);
void set(std::string_view gauge, const Labels& labels, double value);
void observe(std::string_view histogram, const Labels& labels, double value);

// The whole registry in Prometheus text exposition format 0.0.4.
std::string render();

}  // namespace cc::metrics
