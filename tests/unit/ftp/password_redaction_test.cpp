#include <doctest/doctest.h>

#include "ftp/password_redaction.hpp"

using namespace rsexec;

TEST_CASE("a password a server quotes back is taken out of its words") {
    CHECK(redact_passwords("login as bob: 530 Login incorrect for bob:s3cret", {"s3cret"}) ==
          "login as bob: 530 Login incorrect for bob:***");
    // Every occurrence, each known password, the longer first.
    CHECK(redact_passwords("pw pw-long pw", {"pw", "pw-long"}) == "*** *** ***");
    // An empty password names nothing to take out.
    CHECK(redact_passwords("530 Login incorrect", {""}) == "530 Login incorrect");
}

TEST_CASE("a URL's userinfo password is taken out, known or not") {
    CHECK(redact_passwords("550 ftp://bob:unknown@host:21/x denied", {}) == "550 ftp://bob:***@host:21/x denied");
    CHECK(redact_passwords("see (ftps://a:b@c) and ftp://u:p@h", {}) == "see (ftps://a:***@c) and ftp://u:***@h");
    CHECK(redact_passwords("ftp://bob:p@ss@host/", {}) == "ftp://bob:***@host/");
    // A user without a password, a URL without userinfo and a ':' port stay as they are.
    CHECK(redact_passwords("ftp://bob@host:21/a:b@c", {}) == "ftp://bob@host:21/a:b@c");
    CHECK(redact_passwords("ftp://host:21/", {}) == "ftp://host:21/");
    CHECK(redact_passwords("://", {}) == "://");
    CHECK(redact_passwords("ftp://bob:s3cret@h/ quoted s3cret", {"s3cret"}) == "ftp://bob:***@h/ quoted ***");
}
