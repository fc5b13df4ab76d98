// cloud-connector: the S3 gateway. Reads its config from a file (--config)
// or from the config bucket named by CONF_* environment variables, then
// serves until SIGTERM. See docs/configuration.md.
#include <CLI/CLI.hpp>

#include <chrono>
#include <csignal>
#include <thread>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <Poco/Exception.h>

#include "common/log.h"
#include "engine/config_source.h"
#include "engine/credentials.h"
#include "engine/gateway.h"
#include "engine/index_refresher.h"
#include "engine/presence_index.h"
#include "engine/writeback_journal.h"
#include "engine/writeback_worker.h"
#include "engine/ini.h"
#include "engine/settings.h"
#include "engine/startup.h"
#include "engine/state_dir.h"
#include "frontend/operator_endpoints.h"
#include "frontend/server.h"
#include "storage/http_client.h"

int main(int argc, char** argv) {
    CLI::App app{
        "cloud-connector: an S3 gateway that serves one namespace over a cloud object store (\"local\") and an\n"
        "on-prem OpenStack Swift cluster (\"remote\"): reads local first and fall back to remote, writes local.\n\n"
        "Configuration comes from --config PATH, or, without it, from the config bucket:\n"
        "  CONF_BUCKET    bucket holding the config files (required without --config)\n"
        "  CONF_ENDPOINT  S3 endpoint of that bucket (empty: Amazon S3)\n"
        "  CONF_NAME      object name of the main config (default cloud-connector.conf; may carry a prefix)\n"
        "  AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (ECS task role)\n"
        "Signals: SIGTERM/SIGINT drain and exit; SIGHUP reloads the user database and mapping now."};
    std::string config_path;
    bool check_only = false;
    int grace = 30;
    app.add_option("-c,--config", config_path,
                   "Main config file (INI); the mapping and user database it names are read relative to it");
    app.add_flag("--check", check_only, "Load and validate the whole configuration, print a summary and exit");
    int delay = 0;
    app.add_option("--shutdown-grace", grace, "Seconds to let requests in flight finish on SIGTERM")
        ->default_val(30)->check(CLI::Range(0, 3600));
    app.add_option("--shutdown-delay", delay,
                   "Seconds to keep accepting requests after SIGTERM while /readyz answers 503, so load\n"
                   "balancers stop sending traffic before the listener closes")
        ->default_val(0)->check(CLI::Range(0, 600));
    app.set_version_flag("--version", "cloud-connector 0.1.0");
    CLI11_PARSE(app, argc, argv);

    // Signals are taken synchronously by the main thread (sigwait), so every
    // thread started below inherits the blocked mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    cc::http_global_init();

    std::unique_ptr<cc::Gateway> gateway;
    std::unique_ptr<cc::StateDir> state;
    std::unique_ptr<cc::Server> server;
    std::unique_ptr<cc::PresenceIndex> index;
    std::unique_ptr<cc::IndexRefresher> refresher;
    std::unique_ptr<cc::WritebackJournal> journal;
    std::unique_ptr<cc::WritebackWorker> writeback;
    try {
        cc::Startup start = cc::load_startup(config_path);
        cc::Settings settings = start.settings;
        cc::log::set_level(cc::log::parse_level(settings.log_level));
        gateway = std::make_unique<cc::Gateway>(settings, std::move(start.source));
        if (check_only) {
            gateway->load();
            // Validate without opening the state database: a running instance holds its lock.
            cc::StateDir::check_writable(settings.state_dir);
            std::printf("configuration OK: %s\n", start.origin.c_str());
            return 0;
        }
        state = std::make_unique<cc::StateDir>(settings.state_dir);
        index = std::make_unique<cc::PresenceIndex>(state->db());
        journal = std::make_unique<cc::WritebackJournal>(state->db());
        writeback = std::make_unique<cc::WritebackWorker>(*gateway, *journal);
        gateway->set_writeback(journal.get(), [w = writeback.get()] { w->wake(); });
        gateway->set_index(index.get(), cc::IndexPolicy{settings.listing == "index"  ? cc::ListingMode::Index
                                                        : settings.listing == "live" ? cc::ListingMode::Live
                                                                                     : cc::ListingMode::Auto,
                                                        settings.index_max_staleness});
        // Listen first, so probes see the start-up: /healthcheck answers, /readyz says
        // 503 "starting" and S3 requests get 503 until users and mapping are loaded.
        server = std::make_unique<cc::Server>(*gateway);
        server->start();
        gateway->load();
        cc::set_readiness(cc::Readiness::Ready);
        cc::log::info("ready");
        gateway->start_reloading();
        // The first refresh round runs in the background: listings are live until it completes.
        // With listing = live the index is never read: no refresh load on the stores.
        if (settings.listing != "live") {
            refresher = std::make_unique<cc::IndexRefresher>(*gateway, *index, settings.index_refresh_interval);
            gateway->on_reload([r = refresher.get()] { r->wake(); });
            refresher->start();
        }
        writeback->start();   // delivers whatever was pending before a restart, too
    } catch (const Poco::Exception& e) {
        std::fprintf(stderr, "cloud-connector: %s\n", e.displayText().c_str());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cloud-connector: %s\n", e.what());
        return 1;
    }

    for (;;) {
        int sig = 0;
        if (sigwait(&signals, &sig) != 0) continue;
        if (sig == SIGHUP) {
            cc::log::info("SIGHUP: reloading the user database and mapping");
            gateway->reload();
            continue;
        }
        cc::log::info("signal ", sig, ": draining requests (delay ", delay, " s, grace ", grace, " s) and exiting");
        cc::set_readiness(cc::Readiness::Stopping);
        if (delay > 0) std::this_thread::sleep_for(std::chrono::seconds(delay));
        server->stop(grace);
        gateway->stop();
        if (refresher) refresher->stop();
        if (writeback) writeback->stop();   // pending deliveries stay in the journal for the next start
        cc::log::info("stopped: exit 0");
        std::fflush(stderr);
        std::_Exit(0);   // idle keep-alive threads are not worth waiting for
    }
}
