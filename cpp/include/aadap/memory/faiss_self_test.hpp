// A small end-to-end check of FAISS and the BLAS it runs on, for `aadap doctor` and the wheel
// smoke test: an exact inner-product search whose answer is known.
#pragma once

#include <string>

namespace aadap::memory {

struct FaissSelfTest {
  bool ok = false;
  std::string detail;  // what was checked, or what went wrong
  std::string blas;    // the BLAS implementation and the file it was loaded from
};

/// Searches 32 queries (enough for FAISS to take its BLAS path) against 256 random unit
/// vectors; each query is a database vector with small noise and must find itself. Thread-safe.
FaissSelfTest faiss_self_test();

}  // namespace aadap::memory
