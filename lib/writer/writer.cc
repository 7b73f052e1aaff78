#include "writer/writer.h"

#include "base/error.h"
#include "format/erofs.h"
#include "writer/plan.h"

namespace cfs::writer {

std::string_view prefix_bytes(ValuePrefix prefix) {
  switch (prefix) {
    case ValuePrefix::kSlash: return "/";
    case ValuePrefix::kMetacopyHeader:
      return {reinterpret_cast<const char*>(format::kMetacopyDigestHeader.data()), format::kMetacopyDigestHeader.size()};
    case ValuePrefix::kMetacopySha512Header:
      return {reinterpret_cast<const char*>(format::kMetacopySha512Header.data()), format::kMetacopySha512Header.size()};
    case ValuePrefix::kNone: break;
  }
  return {};
}

XattrView::XattrView(std::string_view name, std::string_view value, ValuePrefix prefix)
    : name_(name.data()),
      value_(value.data()),
      name_size_(static_cast<std::uint16_t>(name.size())),
      value_size_(static_cast<std::uint16_t>(value.size())),
      prefix_(static_cast<std::uint32_t>(prefix)) {
  if (name.size() > UINT16_MAX || value.size() > UINT16_MAX) throw Error(ERANGE, "xattr too large");
}

void XattrView::set_shared(std::uint32_t index) {
  if (index > kNotShared) throw Error(EFBIG, "too many shared xattrs");
  shared_ = index;
}

int compare_values(const XattrView& a, const XattrView& b) {
  if (a.prefix() == b.prefix()) return a.value().compare(b.value());
  std::string x(prefix_bytes(a.prefix())), y(prefix_bytes(b.prefix()));  // rare: build them
  return (x += a.value()).compare(y += b.value());
}

std::uint32_t write(const tree::Tree& tree, const Options& options, const ByteSink& sink) {
  Plan plan = prepare(tree, options);
  choose_shared_xattrs(plan);
  lay_out(plan);
  emit(plan, sink);
  return plan.version;
}

std::vector<std::byte> write_to_vector(const tree::Tree& tree, const Options& options) {
  std::vector<std::byte> out;
  write(tree, options, [&](std::span<const std::byte> chunk) {
    out.insert(out.end(), chunk.begin(), chunk.end());
  });
  return out;
}

}  // namespace cfs::writer
