// Regression cases found by the fuzz targets (tests/fuzz) and the hostile-server fixture
// (tests/faults): each input once broke a property those tools check.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "client/control_session.hpp"
#include "client/run.hpp"
#include "ftp/url.hpp"

using namespace rsexec;

TEST_CASE("a URL whose user name holds '/' displays as a URL that parses back to the same parts") {
    // fuzz_url: display() left '/' of the user unescaped, so the user ended the authority.
    const auto url = parse_ftp_url("ftp://a%2Fb:p%40ss@@h/x");
    REQUIRE(url);
    CHECK(url->user == "a/b");
    CHECK(url->host == "h");
    const auto again = parse_ftp_url(url->display());
    REQUIRE(again);
    CHECK(again->user == "a/b");
    CHECK(again->host == "h");
    CHECK(again->port == 21);
    CHECK(again->path == "x");
    CHECK_FALSE(again->password);
}

TEST_CASE("a bad percent escape in the user or password is refused without quoting them") {
    // fuzz_url: the error quoted the undecodable password text.
    for (const char* text : {"ftp://alice:s3cret%zzword@h/f", "ftp://alice:s3cret%0@h/f", "ftp://s3cret%zzword@h/f",
                             "ftp://alice:s3cret%00word@h/f"}) {
        CAPTURE(text);
        const auto url = parse_ftp_url(text);
        REQUIRE_FALSE(url);
        CHECK(url.error().is(Errc::bad_url));
        CHECK(url.error().message.find("s3cret") == std::string::npos);
    }
}

namespace {

// A server that sends half of a multi-line greeting and hangs up (tests/faults close-mid-reply).
asio::awaitable<void> greet_halfway_and_close(asio::ip::tcp::acceptor& acceptor) {
    auto peer = co_await acceptor.async_accept(asio::use_awaitable);
    const std::string partial = "220-Welcome\r\n220-and the rest of this rep";
    co_await asio::async_write(peer, asio::buffer(partial), asio::use_awaitable);
    peer.close();
}

} // namespace

TEST_CASE("text before :// that is no scheme is not quoted in the error") {
    // Found by fuzz_url: the lower-cased junk "scheme" matched the password after "://".
    const auto url = rsexec::parse_ftp_url("f2Fb:p%0Ss@://a%2Fb:p%0s@h/x");
    REQUIRE_FALSE(url);
    CHECK(url.error().message.find("p%0s") == std::string::npos);
    CHECK(url.error().message.find("p%0S") == std::string::npos);
    const auto http = rsexec::parse_ftp_url("http://h/x");
    REQUIRE_FALSE(http);
    CHECK(http.error().message.find("'http'") != std::string::npos);
    // The scheme is quoted as written, so the message holds only text the user typed there.
    const auto upper = rsexec::parse_ftp_url("HTTP://h/x");
    REQUIRE_FALSE(upper);
    CHECK(upper.error().message.find("'HTTP'") != std::string::npos);
}

TEST_CASE("a control connection closed in the middle of a reply is reported intact") {
    // test_hostile.py close-mid-reply: the error of a read that failed inside read_reply was
    // destroyed twice (garbage message, then "double free detected").
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = acceptor.local_endpoint().port();
    asio::co_spawn(io, greet_halfway_and_close(acceptor), asio::detached);

    SessionOptions options;
    options.timeout = std::chrono::seconds(5);
    ControlSession session(io.get_executor(), Side::source, options);
    const Status connected = run_to_completion(io, session.connect("127.0.0.1", port));
    REQUIRE_FALSE(connected);
    CHECK(connected.error().is(Errc::connection_closed));
    CHECK(connected.error().side == Side::source);
    CHECK(connected.error().message == "server closed the control connection");
}
