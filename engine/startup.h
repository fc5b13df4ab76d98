// Where a program's main config comes from, shared by cloud-connector and
// cc-index: a file (--config PATH; the mapping and user database are read
// next to it) or, without a path, the config bucket named by the CONF_*
// environment variables (CONF_BUCKET, CONF_ENDPOINT, CONF_NAME, AWS_* keys).
#pragma once
#include <memory>
#include <string>

#include "engine/config_source.h"
#include "engine/settings.h"

namespace cc {

struct Startup {
    std::string main_config_text;
    std::string origin;                    // the file or bucket object, for messages
    Settings settings;                     // parsed and validated main config
    std::unique_ptr<ConfigSource> source;  // reads the mapping and user database (see Gateway)
};

// Throws std::runtime_error naming the file or variable at fault.
Startup load_startup(const std::string& config_path);

}  // namespace cc
