/* libcomposefs (composefs-cpp): the 32-byte composefs header at the start of every image.
 * Fields are little-endian on disk. */
#ifndef _LCFS_EROFS_H
#define _LCFS_EROFS_H

#include <stdint.h>

#define LCFS_EROFS_VERSION 1
#define LCFS_EROFS_MAGIC 0xd078629aU

typedef enum {
	LCFS_EROFS_FLAGS_HAS_ACL = (1 << 0),
} lcfs_erofs_flag_t;

struct lcfs_erofs_header_s {
	uint32_t magic; /* LCFS_EROFS_MAGIC */
	uint32_t version; /* LCFS_EROFS_VERSION */
	uint32_t flags; /* lcfs_erofs_flag_t */
	uint32_t composefs_version; /* the image format version: 0 or 1 */
	uint32_t unused[4];
} __attribute__((__packed__));

#endif /* _LCFS_EROFS_H */
