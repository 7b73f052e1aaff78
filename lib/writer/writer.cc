#include "writer/writer.h"

#include "writer/plan.h"

namespace cfs::writer {

std::string_view Arena::concat(std::string_view a, std::string_view b, std::string_view c) {
  std::size_t n = a.size() + b.size() + c.size();
  if (size_ - used_ < n) {
    size_ = std::max<std::size_t>(n, 64 * 1024);
    chunks_.push_back(std::make_unique<char[]>(size_));
    used_ = 0;
  }
  char* p = chunks_.back().get() + used_;
  a.copy(p, a.size());
  b.copy(p + a.size(), b.size());
  c.copy(p + a.size() + b.size(), c.size());
  used_ += n;
  return {p, n};
}

void write(const tree::Tree& tree, const Options& options, const ByteSink& sink) {
  Plan plan = prepare(tree, options);
  choose_shared_xattrs(plan);
  lay_out(plan);
  emit(plan, sink);
}

std::vector<std::byte> write_to_vector(const tree::Tree& tree, const Options& options) {
  std::vector<std::byte> out;
  write(tree, options, [&](std::span<const std::byte> chunk) {
    out.insert(out.end(), chunk.begin(), chunk.end());
  });
  return out;
}

}  // namespace cfs::writer
