#include "format/erofs.h"

#include <sys/stat.h>

namespace cfs::format {

FileType file_type_of_mode(std::uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return kFtRegular;
    case S_IFDIR: return kFtDirectory;
    case S_IFCHR: return kFtCharDevice;
    case S_IFBLK: return kFtBlockDevice;
    case S_IFIFO: return kFtFifo;
    case S_IFSOCK: return kFtSocket;
    case S_IFLNK: return kFtSymlink;
    default: return kFtUnknown;
  }
}

}  // namespace cfs::format
