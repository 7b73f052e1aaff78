/* The ABI a program built against upstream 1.0.8's headers relies on: struct layouts (x86_64 /
 * LP64 numbers, libcomposefs(3)), constants and enum values, and prototypes that redeclare
 * identically. */
#include <libcomposefs/lcfs-erofs.h>
#include <libcomposefs/lcfs-mount.h>
#include <libcomposefs/lcfs-writer.h>

#include <errno.h>
#include <stddef.h>

#include "check.h"

/* Redeclaring upstream's prototypes must compile (-Werror): same types, same qualifiers. */
int lcfs_write_to(struct lcfs_node_s *root, struct lcfs_write_options_s *options);
void lcfs_node_set_fsverity_digest(struct lcfs_node_s *node, uint8_t digest[32]);
struct lcfs_node_s *lcfs_build(int dirfd, const char *fname, int buildflags, char **failed_path_out);
int lcfs_mount_fd(int fd, const char *mountpoint, struct lcfs_mount_options_s *options);
int lcfs_compute_fsverity_from_data(uint8_t *digest, uint8_t *data, size_t data_len);
void lcfs_node_set_mtime(struct lcfs_node_s *node, struct timespec *time);

#define LAYOUT(type, field, offset) CHECK_MSG(offsetof(type, field) == (offset), "%s.%s at %zu", #type, #field, offsetof(type, field))

int main(void)
{
	CHECK(sizeof(struct lcfs_write_options_s) == (sizeof(void *) == 8 ? 88 : 56));
	CHECK(sizeof(struct lcfs_read_options_s) == (sizeof(void *) == 8 ? 56 : 32));
	CHECK(sizeof(struct lcfs_mount_options_s) == (sizeof(void *) == 8 ? 104 : 64));
	CHECK(sizeof(struct lcfs_erofs_header_s) == 32);
	CHECK(_Alignof(struct lcfs_erofs_header_s) == 1);
	if (sizeof(void *) == 8) {
		LAYOUT(struct lcfs_write_options_s, format, 0);
		LAYOUT(struct lcfs_write_options_s, version, 4);
		LAYOUT(struct lcfs_write_options_s, flags, 8);
		LAYOUT(struct lcfs_write_options_s, digest_out, 16);
		LAYOUT(struct lcfs_write_options_s, file, 24);
		LAYOUT(struct lcfs_write_options_s, file_write_cb, 32);
		LAYOUT(struct lcfs_write_options_s, max_version, 40);
		LAYOUT(struct lcfs_write_options_s, reserved, 44);
		LAYOUT(struct lcfs_write_options_s, reserved2, 56);
		LAYOUT(struct lcfs_read_options_s, toplevel_entries, 0);
		LAYOUT(struct lcfs_read_options_s, reserved, 8);
		LAYOUT(struct lcfs_read_options_s, reserved2, 24);
		LAYOUT(struct lcfs_mount_options_s, objdirs, 0);
		LAYOUT(struct lcfs_mount_options_s, n_objdirs, 8);
		LAYOUT(struct lcfs_mount_options_s, workdir, 16);
		LAYOUT(struct lcfs_mount_options_s, upperdir, 24);
		LAYOUT(struct lcfs_mount_options_s, expected_fsverity_digest, 32);
		LAYOUT(struct lcfs_mount_options_s, flags, 40);
		LAYOUT(struct lcfs_mount_options_s, idmap_fd, 44);
		LAYOUT(struct lcfs_mount_options_s, image_mountdir, 48);
		LAYOUT(struct lcfs_mount_options_s, reserved, 56);
		LAYOUT(struct lcfs_mount_options_s, reserved2, 72);
	}
	LAYOUT(struct lcfs_erofs_header_s, magic, 0);
	LAYOUT(struct lcfs_erofs_header_s, version, 4);
	LAYOUT(struct lcfs_erofs_header_s, flags, 8);
	LAYOUT(struct lcfs_erofs_header_s, composefs_version, 12);
	LAYOUT(struct lcfs_erofs_header_s, unused, 16);

	CHECK(LCFS_DIGEST_SIZE == 32);
	CHECK(LCFS_BUILD_SKIP_XATTRS == 1 && LCFS_BUILD_USE_EPOCH == 2 && LCFS_BUILD_SKIP_DEVICES == 4);
	CHECK(LCFS_BUILD_COMPUTE_DIGEST == 8 && LCFS_BUILD_NO_INLINE == 16 && LCFS_BUILD_USER_XATTRS == 32);
	CHECK(LCFS_BUILD_BY_DIGEST == 64);
	CHECK(LCFS_FORMAT_EROFS == 0 && LCFS_FLAGS_NONE == 0 && LCFS_FLAGS_MASK == 0);
	CHECK(sizeof(enum lcfs_format_t) == 4 && sizeof(enum lcfs_flags_t) == 4);
	CHECK(LCFS_VERSION_MAX == 1 && LCFS_DEFAULT_VERSION_MIN == 0 && LCFS_DEFAULT_VERSION_MAX == 1);
	CHECK(LCFS_INODE_XATTRMETA_SIZE == 4 && LCFS_INODE_EXTERNAL_XATTR_MAX == 32767);
	CHECK(LCFS_INLINE_CONTENT_MAX == 5000 && LCFS_RECOMMENDED_INLINE_CONTENT_MAX == 64);
	CHECK(ENOVERITY == ENOTTY && EWRONGVERITY == EILSEQ && ENOSIGNATURE == EBADMSG);
	CHECK(LCFS_MOUNT_FLAGS_NONE == 0 && LCFS_MOUNT_FLAGS_REQUIRE_VERITY == 1);
	CHECK(LCFS_MOUNT_FLAGS_READONLY == 2 && LCFS_MOUNT_FLAGS_IDMAP == 8);
	CHECK(LCFS_MOUNT_FLAGS_TRY_VERITY == 16 && LCFS_MOUNT_FLAGS_MASK == 31);
	CHECK(sizeof(enum lcfs_mount_flags_t) == 4);
	CHECK(LCFS_EROFS_VERSION == 1 && LCFS_EROFS_MAGIC == 0xd078629aU && LCFS_EROFS_FLAGS_HAS_ACL == 1);
	return report("abi");
}
