#include <doctest/doctest.h>

#include "jobs/mirror.hpp"

using namespace rsexec;

namespace {
TreeEntry file(std::string path, std::uint64_t size, std::string modify) {
    return {std::move(path), false, size, std::move(modify)};
}
TreeEntry dir(std::string path) { return {std::move(path), true, std::nullopt, std::nullopt}; }
} // namespace

TEST_CASE("a mirror into an empty tree makes every directory and copies every file") {
    const auto plan = plan_mirror({dir("a"), file("a/x", 1, "20260101000000"), dir("a/b"), file("top", 2, "1")}, {}, {});
    CHECK(plan.directories_to_make == std::vector<std::string>{"a", "a/b"});
    CHECK(plan.files_to_copy == std::vector<std::string>{"a/x", "top"});
    CHECK(plan.files_to_delete.empty());
}

TEST_CASE("files of the same size and not newer are up to date") {
    const std::vector<TreeEntry> source{file("f", 10, "20260101000000"), file("g", 10, "20260102000000"),
                                        file("h", 10, "20260101000000")};
    const std::vector<TreeEntry> destination{file("f", 10, "20260105000000"), file("g", 10, "20260101000000"),
                                             file("h", 11, "20260105000000")};
    const auto plan = plan_mirror(source, destination, {});
    CHECK(plan.files_to_copy == std::vector<std::string>{"g", "h"});
    CHECK(plan.up_to_date == 1);

    MirrorPolicy size_only;
    size_only.overwrite = Overwrite::if_different;
    CHECK(plan_mirror(source, destination, size_only).files_to_copy == std::vector<std::string>{"h"});

    MirrorPolicy only_newer;
    only_newer.overwrite = Overwrite::newer;
    CHECK(plan_mirror(source, destination, only_newer).files_to_copy == std::vector<std::string>{"g"});
}

TEST_CASE("a source listed with a fractional modify fact is not newer than its copy at the whole second") {
    const auto plan = plan_mirror({file("f", 10, "20261130120000.123"), file("g", 10, "20261130120001.5")},
                                  {file("f", 10, "20261130120000"), file("g", 10, "20261130120000")}, {});
    CHECK(plan.files_to_copy == std::vector<std::string>{"g"});
    CHECK(plan.up_to_date == 1);
}

TEST_CASE("deletions happen only with the flag, and never of excluded files") {
    const std::vector<TreeEntry> source{file("keep", 1, "1")};
    const std::vector<TreeEntry> destination{file("keep", 1, "1"), file("gone", 1, "1"), file("notes.tmp", 1, "1")};
    CHECK(plan_mirror(source, destination, {}).files_to_delete.empty());
    MirrorPolicy policy;
    policy.delete_extra = true;
    policy.excludes = {"*.tmp"};
    CHECK(plan_mirror(source, destination, policy).files_to_delete == std::vector<std::string>{"gone"});
}

TEST_CASE("excludes match the relative path or the name") {
    CHECK(is_excluded("a/b/core.dump", {"*.dump"}));
    CHECK(is_excluded("a/b", {"a/*"}));
    CHECK_FALSE(is_excluded("a/b.txt", {"*.dump"}));
    const auto plan = plan_mirror({file("x.log", 1, "1"), file("y", 1, "1")}, {}, {Overwrite::different_or_newer, false, false, {"*.log"}});
    CHECK(plan.files_to_copy == std::vector<std::string>{"y"});
}

TEST_CASE("paths join without doubled slashes") {
    CHECK(join_path("", "a") == "a");
    CHECK(join_path("root", "a/b") == "root/a/b");
    CHECK(join_path("root/", "a") == "root/a");
}

TEST_CASE("--delete removes directories the source lost, children before parents") {
    const std::vector<TreeEntry> source{dir("keep"), file("keep/k", 1, "1")};
    const std::vector<TreeEntry> destination{dir("keep"), file("keep/k", 1, "1"), dir("old"), file("old/o", 1, "1"),
                                             dir("old/deep"), dir("old/deep/er"), file("old/deep/er/d", 1, "1"),
                                             dir("old/empty"), dir("old-sibling")};
    MirrorPolicy policy;
    policy.delete_extra = true;
    const auto plan = plan_mirror(source, destination, policy);
    CHECK(plan.files_to_delete == std::vector<std::string>{"old/deep/er/d", "old/o"});
    // Reverse path order: "old-sibling" sorts between "old" and "old/...".
    CHECK(plan.directories_to_delete == std::vector<std::string>{"old/empty", "old/deep/er", "old/deep", "old-sibling", "old"});
    CHECK(plan_mirror(source, destination, {}).directories_to_delete.empty());
}

TEST_CASE("a directory the source lost stays while it holds an excluded entry") {
    const std::vector<TreeEntry> destination{dir("held"), file("held/h", 1, "1"), file("held/notes.tmp", 1, "1"),
                                             dir("outer"), dir("outer/cache"), dir("gone"), dir("gone/sub")};
    MirrorPolicy policy;
    policy.delete_extra = true;
    policy.excludes = {"*.tmp", "cache"};
    const auto plan = plan_mirror({}, destination, policy);
    CHECK(plan.files_to_delete == std::vector<std::string>{"held/h"});
    // held/ keeps notes.tmp, outer/ keeps the excluded cache/: only gone/ (and gone/sub/) go.
    CHECK(plan.directories_to_delete == std::vector<std::string>{"gone/sub", "gone"});
}

TEST_CASE("a directory the source still has is never deleted, even when emptied") {
    const std::vector<TreeEntry> source{dir("d")};
    const std::vector<TreeEntry> destination{dir("d"), file("d/extra", 1, "1")};
    MirrorPolicy policy;
    policy.delete_extra = true;
    const auto plan = plan_mirror(source, destination, policy);
    CHECK(plan.files_to_delete == std::vector<std::string>{"d/extra"});
    CHECK(plan.directories_to_delete.empty());
}

TEST_CASE("the overwrite policy decides which files at both ends a mirror copies, and says why it keeps the others") {
    const std::vector<TreeEntry> source{file("same", 10, "20260101000000"), file("newer", 10, "20260102000000"),
                                        file("other", 10, "20260101000000"), file("new", 1, "20260101000000")};
    const std::vector<TreeEntry> destination{file("same", 10, "20260101000000"), file("newer", 10, "20260101000000"),
                                             file("other", 11, "20260105000000")};
    MirrorPolicy policy;
    policy.overwrite = Overwrite::never;
    auto plan = plan_mirror(source, destination, policy);
    CHECK(plan.files_to_copy == std::vector<std::string>{"new"});
    CHECK(plan.up_to_date == 3);
    REQUIRE(plan.files_kept.size() == 3);
    CHECK(plan.files_kept.front().second == SkipReason::exists);

    policy.overwrite = Overwrite::always;
    CHECK(plan_mirror(source, destination, policy).files_to_copy.size() == 4);

    policy.overwrite = Overwrite::if_different;
    policy.compare_digests = true;
    plan = plan_mirror(source, destination, policy);
    CHECK(plan.files_to_copy == std::vector<std::string>{"new", "other"});
    CHECK(plan.files_to_compare == std::vector<std::string>{"newer", "same"});
    CHECK(plan.up_to_date == 0);

    policy.overwrite = Overwrite::different_or_newer;
    plan = plan_mirror(source, destination, policy);
    REQUIRE(plan.files_kept.size() == 1);
    CHECK(plan.files_kept.front() == std::pair<std::string, SkipReason>{"same", SkipReason::up_to_date});
}

TEST_CASE("a file whose name the destination gives a directory is copied into it; every other names a file") {
    const auto plan = plan_mirror({file("f", 1, "1"), file("g", 1, "1"), file("h", 1, "1")},
                                  {dir("f"), file("g", 2, "1")}, {});
    CHECK(plan.files_to_copy == std::vector<std::string>{"f", "g", "h"});
    CHECK(plan.files_into_directories == std::set<std::string>{"f"});
}
