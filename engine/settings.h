// Everything the main config file decides, validated once. The reference's
// keys keep their places ([DEFAULT], [app:proxy-server], [filter:cloud-connector-auth]);
// this product's own settings live in [cloud-connector].
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include "engine/ini.h"

namespace cc {

struct Settings {
    // [DEFAULT]
    std::string bind_ip = "0.0.0.0";
    int bind_port = 8081;
    std::string swift_baseurl;              // on-prem cluster's S3 API, required
    std::string log_level = "info";         // debug|info|warning|error
    // [app:proxy-server] conf_file, [filter:cloud-connector-auth] s3_passwd_json
    std::string mapping_file = "sync-config.json";
    std::string users_file = "s3-passwd.json";
    // [cloud-connector]
    std::string state_dir = "/var/lib/cloud-connector";
    int reload_interval = 30;               // seconds, > 0
    int max_threads = 256;                  // request threads (one per active connection)
    int request_header_timeout = 20;        // seconds a client may take to send a request line and headers
    int client_timeout = 60;                // seconds a request or response may go without a byte moving
    int request_body_timeout = 20;          // seconds for a request body's first bytes (frontend/body_stream.h, BodyPace)
    int request_body_min_rate = 500;        // bytes per second a request body must average after that (0: no minimum)
    int keep_alive_timeout = 30;            // seconds an idle keep-alive connection is kept (while no one waits)
    int backend_connect_timeout = 5;        // seconds
    int backend_timeout = 60;               // seconds without progress before a backend is "down"
    std::string remote_region = "us-east-1";// SigV4 region used towards swift_baseurl
    int max_skew_seconds = 900;
    // Presence index: refresh period (0 = reload_interval), how old a completed
    // refresh may be for listings to come from it (0 = 3 x refresh period),
    // and where listings come from: auto (index when fresh), index, live.
    int index_refresh_interval = 0;
    int index_max_staleness = 0;
    std::string listing = "auto";
    // Caching and write policies (per mapping entry: cc_cache_on_read, cc_write_policy).
    bool cache_on_read = false;
    std::uint64_t cache_max_object_size = 5ull << 30;   // larger objects are never filled
    int cache_revalidate_after = 300;                    // seconds before a cached copy is checked against on-prem
    std::string write_policy = "local";                  // local | write-through | write-back
    // Which store a read asks first (per mapping entry: cc_read_routing):
    // local-first (1space's rule), or index (a key the fresh presence index has
    // no local copy of goes to the remote store first; docs/consistency.md).
    std::string read_routing = "local-first";
    // Capacity of each embedded file store directory (mapping entries whose
    // aws_endpoint is file:///dir), in bytes; 0 = unlimited. Clean copies are evicted
    // least recently used first; copies that exist only locally never are.
    std::uint64_t file_store_max_bytes = 0;
    // Native HTTPS on bind_port when both are set (PEM files); TLS 1.2+ only.
    std::string tls_cert_file, tls_key_file;
    // Domains for virtual-hosted style ("bucket.<domain>"); empty = path style only.
    std::vector<std::string> storage_domains;
};

// Throws std::runtime_error whose message names the offending setting, e.g.
// "[DEFAULT] swift_baseurl: missing" or "[cloud-connector] reload_interval: not a positive integer: 'x'".
Settings settings_from_ini(const IniFile& ini);

}  // namespace cc
