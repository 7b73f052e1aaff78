// The shared library's own symbol: its version, for programs that link it.
namespace cfs {
const char* library_version() noexcept { return CFS_VERSION; }
}  // namespace cfs
