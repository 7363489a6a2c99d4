#pragma once
// A result that is either a value or an Error: expected failures (bad input, refusing servers)
// travel as values. std::expected is C++23; this is the small part of it rsexec needs.
#include <cassert>
#include <utility>
#include <variant>

#include "ftp/error.hpp"

namespace rsexec {

template <class T>
class [[nodiscard]] Expected {
public:
    Expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    Expected(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

    bool has_value() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & { assert(has_value()); return std::get<0>(state_); }
    const T& value() const& { assert(has_value()); return std::get<0>(state_); }
    T&& value() && { assert(has_value()); return std::get<0>(std::move(state_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const { assert(!has_value()); return std::get<1>(state_); }

private:
    std::variant<T, Error> state_;
};

// A result with no value: success, or the Error that prevented it.
using Status = Expected<std::monostate>;
inline Status success() { return std::monostate{}; }

} // namespace rsexec
