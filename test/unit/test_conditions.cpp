// S3's precedence rules for conditional requests (evaluated by the engine, not the backends).
#include <doctest/doctest.h>

#include "common/timefmt.h"
#include "engine/conditional_store.h"

using namespace cc;
using S = ReadResult::Status;

namespace {
ObjectInfo object() {
    ObjectInfo i;
    i.etag = "\"abc\"";
    i.last_modified = *parse_http_date("Wed, 01 Jan 2020 00:00:00 GMT");
    return i;
}
ReadOptions opts(std::string im, std::string inm, std::string ims, std::string ius) {
    ReadOptions o;
    o.if_match = std::move(im);
    o.if_none_match = std::move(inm);
    o.if_modified_since = std::move(ims);
    o.if_unmodified_since = std::move(ius);
    return o;
}
const char* kBefore = "Tue, 01 Jan 2019 00:00:00 GMT";
const char* kAfter = "Fri, 01 Jan 2021 00:00:00 GMT";
}  // namespace

TEST_CASE("If-Match") {
    CHECK(evaluate_conditions(opts("\"abc\"", "", "", ""), object()) == S::Ok);
    CHECK(evaluate_conditions(opts("abc", "", "", ""), object()) == S::Ok);
    CHECK(evaluate_conditions(opts("\"x\", \"abc\"", "", "", ""), object()) == S::Ok);
    CHECK(evaluate_conditions(opts("*", "", "", ""), object()) == S::Ok);
    CHECK(evaluate_conditions(opts("\"x\"", "", "", ""), object()) == S::PreconditionFailed);
}

TEST_CASE("If-Match true overrides If-Unmodified-Since false") {
    CHECK(evaluate_conditions(opts("\"abc\"", "", "", kBefore), object()) == S::Ok);
    CHECK(evaluate_conditions(opts("", "", "", kBefore), object()) == S::PreconditionFailed);
    CHECK(evaluate_conditions(opts("", "", "", kAfter), object()) == S::Ok);
}

TEST_CASE("If-None-Match false overrides If-Modified-Since true") {
    CHECK(evaluate_conditions(opts("", "\"abc\"", kBefore, ""), object()) == S::NotModified);
    CHECK(evaluate_conditions(opts("", "\"x\"", kAfter, ""), object()) == S::Ok);
    CHECK(evaluate_conditions(opts("", "", kAfter, ""), object()) == S::NotModified);
    CHECK(evaluate_conditions(opts("", "", kBefore, ""), object()) == S::Ok);
}

TEST_CASE("unparseable dates are ignored") {
    CHECK(evaluate_conditions(opts("", "", "yesterday", "tomorrow"), object()) == S::Ok);
}
