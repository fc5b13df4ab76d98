// When a request head has arrived whole (frontend/raw_head.h): the connection
// scheduler gives a connection a thread only then, so "whole" must never be said
// of bytes Poco's head reading would still wait on (a thread held by a slow client).
#include <doctest/doctest.h>

#include <string>

#include "frontend/raw_head.h"

using cc::holds_whole_head;

TEST_CASE("a head is whole once the empty line after its request line is there") {
    CHECK(holds_whole_head("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK(holds_whole_head("GET / HTTP/1.1\r\n\r\n"));                       // no headers
    CHECK(holds_whole_head("GET / HTTP/1.1\nHost: x\n\n"));                   // bare LF
    CHECK(holds_whole_head("GET / HTTP/1.1\r\nHost: x\r\n\r\nPUT body bytes"));   // more follows
    CHECK(holds_whole_head("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"));     // empty lines first
    CHECK_FALSE(holds_whole_head(""));
    CHECK_FALSE(holds_whole_head("GET / HTTP/1.1\r\nHost: x\r\n"));
    CHECK_FALSE(holds_whole_head("GET / HTTP/1.1\r\nHost: x\r\n\r"));
    CHECK_FALSE(holds_whole_head("\r\n\r\n"));
    CHECK_FALSE(holds_whole_head("\r\n\r\nGET / HTTP/1.1\r\n"));
}

TEST_CASE("empty lines inside the request line, which Poco reads as blanks, do not end a head") {
    // Poco's request line reading skips any blanks, newlines included, between method,
    // URI and version: these are request lines still waiting for their headers.
    CHECK_FALSE(holds_whole_head("GET\n\n/healthcheck HTTP/1.1\r\nHost: x\r\n"));
    CHECK_FALSE(holds_whole_head("GET /healthcheck\r\n\r\nHTTP/1.1\r\nHost: x\r\n"));
    CHECK_FALSE(holds_whole_head("GET\r\n\r\n/x\r\n\r\nHTTP/1.1"));
    CHECK(holds_whole_head("GET\n\n/healthcheck HTTP/1.1\r\nHost: x\r\n\r\n"));
}
