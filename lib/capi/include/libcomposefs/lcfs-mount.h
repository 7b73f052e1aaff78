/* libcomposefs (composefs-cpp): mount a composefs image with the kernel (EROFS + overlayfs).
 * ABI-compatible with upstream composefs 1.0.8; see lcfs(3). */
#ifndef _LCFS_MOUNT_H
#define _LCFS_MOUNT_H

#ifndef LCFS_EXTERN
#define LCFS_EXTERN extern
#endif

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#ifdef __cplusplus
extern "C" {
#endif

/* errno values of the mount calls; include <errno.h> to use them. */
#define ENOVERITY ENOTTY /* the image has no fs-verity digest */
#define EWRONGVERITY EILSEQ /* the image's digest is not the expected one */
#define ENOSIGNATURE EBADMSG /* never returned; kept for callers that test for it */

enum lcfs_mount_flags_t {
	LCFS_MOUNT_FLAGS_NONE = 0,
	LCFS_MOUNT_FLAGS_REQUIRE_VERITY = (1 << 0), /* every object must match its digest */
	LCFS_MOUNT_FLAGS_READONLY = (1 << 1),
	LCFS_MOUNT_FLAGS_IDMAP = (1 << 3), /* id-mapped image layer, through idmap_fd */
	LCFS_MOUNT_FLAGS_TRY_VERITY = (1 << 4), /* REQUIRE_VERITY where the kernel can */

	LCFS_MOUNT_FLAGS_MASK = (1 << 5) - 1,
};

struct lcfs_mount_options_s {
	const char **objdirs; /* object stores, searched in order */
	size_t n_objdirs; /* at least 1 */
	const char *workdir; /* with upperdir: a writable overlay on top */
	const char *upperdir;
	const char *expected_fsverity_digest; /* NULL or "": no check; else 64 hex digits */
	uint32_t flags; /* enum lcfs_mount_flags_t */
	int idmap_fd; /* a user namespace, with LCFS_MOUNT_FLAGS_IDMAP */
	const char *image_mountdir; /* NULL: a private temporary directory */

	uint32_t reserved[4];
	void *reserved2[4];
};

LCFS_EXTERN int lcfs_mount_image(const char *path, const char *mountpoint,
				 struct lcfs_mount_options_s *options);
LCFS_EXTERN int lcfs_mount_fd(int fd, const char *mountpoint,
			      struct lcfs_mount_options_s *options);

#ifdef __cplusplus
}
#endif

#endif /* _LCFS_MOUNT_H */
