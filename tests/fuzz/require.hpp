#pragma once
// A fuzz target's property check: a broken property is a crash, so libFuzzer keeps the input.
#include <cstdlib>

inline void require(bool condition) {
    if (!condition) std::abort();
}
