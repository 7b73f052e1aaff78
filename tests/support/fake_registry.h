// tests/integration/fake_registry.py run by a test: an OCI image layout served over the
// distribution API on 127.0.0.1 with one fault injected (see the script), killed when the
// fixture goes. port() is 0 when it did not start.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/support.h"

// The fake registry is a Python script: a test that uses it skips (fails under CI=true) without.
#define CFS_REQUIRE_PYTHON() \
  CFS_REQUIRE(::cfs::test::run({"python3", "-c", "pass"}).status == 0, "python3 is not installed")

namespace cfs::test {

class FakeRegistry {
 public:
  FakeRegistry(const std::filesystem::path& layout, const std::string& fault, const std::vector<std::string>& extra = {});
  ~FakeRegistry();
  FakeRegistry(const FakeRegistry&) = delete;
  FakeRegistry& operator=(const FakeRegistry&) = delete;
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace cfs::test
