// How 1space names an on-prem object inside the cloud bucket. Must match
// byte for byte, or data already laid out by existing deployments is invisible.
//   no custom_prefix:   <P>/<account>/<container>/<key>, P = md5("<a>/<c>") mod 16^6,
//                       lower-case hex, NOT zero padded
//   custom_prefix "X":  X/<key>
//   custom_prefix "":   <key>
// SLO manifests live under <P>/.manifests/... (or X/.manifests/...) and never
// appear in listings.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace cc::layout {

std::string hash_prefix(std::string_view account, std::string_view container);

// The prefix every object of the container carries in the cloud bucket
// ("<P>/<a>/<c>/", "X/" or "").
std::string object_prefix(std::string_view account, std::string_view container,
                          const std::optional<std::string>& custom_prefix);

// True for names under the manifest area that listings must hide, given the
// object name with object_prefix already stripped.
bool is_hidden_name(std::string_view stripped_name, const std::optional<std::string>& custom_prefix);

}  // namespace cc::layout
