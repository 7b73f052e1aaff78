/* Every function of the C API: what it does and how it fails (libcomposefs(3); upstream
 * 1.0.8's behaviour, and where we deliberately differ, ours). Run under ASan/UBSan and
 * LeakSanitizer by the sanitizer build. */
#include <libcomposefs/lcfs-mount.h>
#include <libcomposefs/lcfs-writer.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "check.h"

#define FAILS_WITH(call, err)                                                                  \
	do {                                                                                   \
		errno = 0;                                                                     \
		int r_ = (call);                                                               \
		CHECK_MSG(r_ == -1 && errno == (err), "%s: returned %d, errno %s", #call, r_, \
			  strerror(errno));                                                    \
	} while (0)

static struct lcfs_node_s *node(uint32_t mode)
{
	struct lcfs_node_s *n = lcfs_node_new();
	lcfs_node_set_mode(n, mode);
	return n;
}

static ssize_t discard(void *file, void *buf, size_t count)
{
	(void)file;
	(void)buf;
	return (ssize_t)count;
}

/* Writes with versions 0/1 into nothing; the result of lcfs_write_to. */
static int write_tree(struct lcfs_node_s *root, uint8_t *digest)
{
	struct lcfs_write_options_s o = { LCFS_FORMAT_EROFS };
	o.max_version = 1;
	o.digest_out = digest;
	o.file_write_cb = discard;
	return lcfs_write_to(root, &o);
}

static struct image image_of(struct lcfs_node_s *root)
{
	struct image img = { 0 };
	struct lcfs_write_options_s o = { LCFS_FORMAT_EROFS };
	o.max_version = 1;
	o.file = &img;
	o.file_write_cb = collect;
	CHECK(lcfs_write_to(root, &o) == 0);
	return img;
}

static void test_tree(void)
{
	struct lcfs_node_s *root = node(S_IFDIR | 0755), *file = node(S_IFREG | 0644);
	struct lcfs_node_s *b = node(S_IFREG), *a = node(S_IFREG), *sub = node(S_IFDIR | 0700);
	char long_name[257];

	FAILS_WITH(lcfs_node_add_child(file, a, "a"), ENOTDIR);
	FAILS_WITH(lcfs_node_add_child(root, a, ""), EINVAL);
	memset(long_name, 'x', 256);
	long_name[256] = '\0';
	FAILS_WITH(lcfs_node_add_child(root, a, long_name), ENAMETOOLONG);
	long_name[255] = '\0';
	CHECK(lcfs_node_add_child(root, file, long_name) == 0); /* 255 is fine */
	CHECK(lcfs_node_add_child(root, b, "b") == 0);
	CHECK(lcfs_node_add_child(root, a, "a") == 0);
	FAILS_WITH(lcfs_node_add_child(root, a, "a2"), EMLINK); /* already in a directory */
	{
		struct lcfs_node_s *dup = node(S_IFREG);
		FAILS_WITH(lcfs_node_add_child(root, dup, "b"), EEXIST);
		lcfs_node_unref(dup); /* a failed add leaves the reference with the caller */
	}
	CHECK(lcfs_node_add_child(root, sub, "sub") == 0);
	FAILS_WITH(lcfs_node_add_child(sub, root, "loop"), ELOOP); /* upstream accepted cycles */
	/* sorted bytewise, whatever the insertion order */
	CHECK(lcfs_node_get_n_children(root) == 4);
	CHECK(strcmp(lcfs_node_get_name(lcfs_node_get_child(root, 0)), "a") == 0);
	CHECK(strcmp(lcfs_node_get_name(lcfs_node_get_child(root, 1)), "b") == 0);
	CHECK(strcmp(lcfs_node_get_name(lcfs_node_get_child(root, 2)), "sub") == 0);
	CHECK(lcfs_node_get_child(root, 3) == file);
	CHECK(lcfs_node_get_child(root, 4) == NULL);
	CHECK(lcfs_node_lookup_child(root, "b") == b);
	CHECK(lcfs_node_lookup_child(root, "c") == NULL);
	CHECK(lcfs_node_lookup_child(file, "a") == NULL);
	CHECK(lcfs_node_get_parent(b) == root && lcfs_node_get_parent(root) == NULL);
	CHECK(lcfs_node_get_name(root) == NULL);
	CHECK(lcfs_node_dirp(root) && !lcfs_node_dirp(file));

	/* Dropping the tree while a subdirectory is referenced elsewhere: it survives
	 * parentless, nameless and childless, and can be added again. */
	CHECK(lcfs_node_add_child(sub, node(S_IFREG), "inner") == 0);
	CHECK(lcfs_node_ref(sub) == sub);
	lcfs_node_unref(root);
	CHECK(lcfs_node_get_parent(sub) == NULL && lcfs_node_get_name(sub) == NULL);
	CHECK(lcfs_node_get_n_children(sub) == 0);
	root = node(S_IFDIR | 0755);
	CHECK(lcfs_node_add_child(root, sub, "again") == 0);
	lcfs_node_unref(root);
	lcfs_node_unref(NULL); /* harmless */
}

/* Chains 300,000 directories deep, built top-down and bottom-up, each add checked for a loop:
 * the check costs the shorter of the two walks (it walked every ancestor, minutes at this
 * depth), and a loop closed at the bottom of the chain is still refused. */
static void test_deep_chains(void)
{
	enum { depth = 300000 };
	struct lcfs_node_s *top = node(S_IFDIR), *bottom = top, *chain;
	int i;

	for (i = 0; i < depth; i++) { /* top-down: each new directory under the last */
		struct lcfs_node_s *d = node(S_IFDIR);
		CHECK(lcfs_node_add_child(bottom, d, "d") == 0);
		bottom = d;
	}
	FAILS_WITH(lcfs_node_add_child(bottom, top, "loop"), ELOOP);
	chain = node(S_IFDIR);
	for (i = 0; i < depth; i++) { /* bottom-up: the chain so far under a new directory */
		struct lcfs_node_s *d = node(S_IFDIR);
		CHECK(lcfs_node_add_child(d, chain, "d") == 0);
		chain = d;
	}
	CHECK(lcfs_node_add_child(bottom, chain, "both") == 0);
	lcfs_node_unref(top);
}

static void test_attributes(void)
{
	struct lcfs_node_s *n = lcfs_node_new();
	struct timespec t = { -5, 999999999 }, got;

	CHECK(lcfs_node_get_mode(n) == 0 && lcfs_node_get_nlink(n) == 1 && lcfs_node_get_size(n) == 0);
	FAILS_WITH(lcfs_node_try_set_mode(n, 0644), EINVAL);
	FAILS_WITH(lcfs_node_try_set_mode(n, 0170000 | 0644), EINVAL);
	CHECK(lcfs_node_get_mode(n) == 0);
	CHECK(lcfs_node_try_set_mode(n, S_IFSOCK | 0755) == 0 && lcfs_node_get_mode(n) == (S_IFSOCK | 0755));
	lcfs_node_set_mode(n, 0); /* no validation */
	CHECK(lcfs_node_get_mode(n) == 0);
	lcfs_node_set_uid(n, 70000);
	lcfs_node_set_gid(n, 4000000000u);
	CHECK(lcfs_node_get_uid(n) == 70000 && lcfs_node_get_gid(n) == 4000000000u);
	lcfs_node_set_rdev64(n, 0x123456789ULL); /* the low 32 bits are kept */
	CHECK(lcfs_node_get_rdev64(n) == 0x23456789);
	lcfs_node_set_rdev64(n, makedev(8, 1));
	CHECK(major(lcfs_node_get_rdev64(n)) == 8 && minor(lcfs_node_get_rdev64(n)) == 1);
	{ /* the deprecated 32-bit pair */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
		lcfs_node_set_rdev(n, 0x801);
		CHECK(lcfs_node_get_rdev(n) == 0x801 && lcfs_node_get_rdev64(n) == 0x801);
#pragma GCC diagnostic pop
	}
	lcfs_node_set_nlink(n, 7);
	CHECK(lcfs_node_get_nlink(n) == 7);
	lcfs_node_set_mtime(n, &t);
	lcfs_node_get_mtime(n, &got);
	CHECK(got.tv_sec == -5 && got.tv_nsec == 999999999);

	/* content: up to 5000 bytes, sets the size; a new size drops it */
	{
		static uint8_t big[5001];
		CHECK(lcfs_node_set_content(n, (const uint8_t *)"hello", 5) == 0);
		CHECK(lcfs_node_get_size(n) == 5 && memcmp(lcfs_node_get_content(n), "hello", 5) == 0);
		FAILS_WITH(lcfs_node_set_content(n, big, 5001), EINVAL);
		CHECK(lcfs_node_get_size(n) == 5 && lcfs_node_get_content(n) != NULL);
		CHECK(lcfs_node_set_content(n, big, 5000) == 0 && lcfs_node_get_size(n) == 5000);
		lcfs_node_set_size(n, 5000); /* same size: kept */
		CHECK(lcfs_node_get_content(n) != NULL);
		lcfs_node_set_size(n, 4999);
		CHECK(lcfs_node_get_content(n) == NULL && lcfs_node_get_size(n) == 4999);
		CHECK(lcfs_node_set_content(n, NULL, 7) == 0); /* no data, but the size */
		CHECK(lcfs_node_get_content(n) == NULL && lcfs_node_get_size(n) == 7);
	}
	/* payload: up to 4095 bytes; symlink payloads only on symlinks, and set the size */
	{
		char p[4097];
		memset(p, 'p', 4096);
		p[4096] = '\0';
		FAILS_WITH(lcfs_node_set_payload(n, p), ENAMETOOLONG);
		p[4095] = '\0';
		CHECK(lcfs_node_set_payload(n, p) == 0 && strlen(lcfs_node_get_payload(n)) == 4095);
		CHECK(lcfs_node_set_payload(n, NULL) == 0 && lcfs_node_get_payload(n) == NULL);
		CHECK(lcfs_node_set_payload(n, "") == 0 && strcmp(lcfs_node_get_payload(n), "") == 0);
		lcfs_node_set_mode(n, S_IFREG | 0644);
		FAILS_WITH(lcfs_node_set_symlink_payload(n, "target"), EINVAL); /* upstream aborts */
		lcfs_node_set_mode(n, S_IFLNK | 0777);
		FAILS_WITH(lcfs_node_set_symlink_payload(n, ""), EINVAL);
		FAILS_WITH(lcfs_node_set_symlink_payload(n, NULL), EINVAL);
		CHECK(lcfs_node_set_symlink_payload(n, "target") == 0 && lcfs_node_get_size(n) == 6);
	}
	/* digests */
	{
		uint8_t d[LCFS_DIGEST_SIZE];
		CHECK(lcfs_node_get_fsverity_digest(n) == NULL);
		memset(d, 0x5a, sizeof d);
		lcfs_node_set_fsverity_digest(n, d);
		CHECK(memcmp(lcfs_node_get_fsverity_digest(n), d, sizeof d) == 0);
	}
	lcfs_node_unref(n);
}

static void test_xattrs(void)
{
	struct lcfs_node_s *n = node(S_IFREG | 0644);
	static char value[32741];
	char name[257];
	size_t len = 99;

	FAILS_WITH(lcfs_node_unset_xattr(n, "user.foo"), ENODATA);
	CHECK(lcfs_node_get_xattr(n, "user.foo", &len) == NULL && len == 99);
	FAILS_WITH(lcfs_node_set_xattr(n, "", "v", 1), ERANGE);
	memset(name, 'n', 256);
	name[256] = '\0';
	FAILS_WITH(lcfs_node_set_xattr(n, name, "v", 1), ERANGE);
	FAILS_WITH(lcfs_node_set_xattr(n, "user.big", value, 65536), EINVAL);
	/* budget: 12 + 7 + 8 + 32740 = 32767 */
	FAILS_WITH(lcfs_node_set_xattr(n, "user.big", value, 32741), ERANGE);
	CHECK(lcfs_node_set_xattr(n, "user.big", value, 32740) == 0);
	FAILS_WITH(lcfs_node_set_xattr(n, "user.x", "", 0), ERANGE);
	/* a replacement over the budget keeps the old value (upstream lost it) */
	memset(value, 'v', sizeof value);
	FAILS_WITH(lcfs_node_set_xattr(n, "user.big", value, 32741), ERANGE);
	CHECK(lcfs_node_get_xattr(n, "user.big", &len) != NULL && len == 32740);
	CHECK(lcfs_node_unset_xattr(n, "user.big") == 0 && lcfs_node_get_n_xattr(n) == 0);

	/* at most 1926 empty values with 10-character names */
	{
		int ok = 0;
		for (int i = 0; i < 2000; i++) {
			char key[11];
			snprintf(key, sizeof key, "user.%05d", i);
			if (lcfs_node_set_xattr(n, key, NULL, 0) == 0)
				ok++;
		}
		CHECK_MSG(ok == 1926, "%d fit", ok);
		for (int i = 0; i < 2000; i++) {
			char key[11];
			snprintf(key, sizeof key, "user.%05d", i);
			lcfs_node_unset_xattr(n, key);
		}
		CHECK(lcfs_node_get_n_xattr(n) == 0);
	}
	/* order: replacing moves to the end, removing moves the last into the hole */
	CHECK(lcfs_node_set_xattr(n, "user.a", "1", 1) == 0);
	CHECK(lcfs_node_set_xattr(n, "user.b", "2", 1) == 0);
	CHECK(lcfs_node_set_xattr(n, "user.c", "3", 1) == 0);
	CHECK(lcfs_node_set_xattr(n, "user.a", "4", 1) == 0);
	CHECK(strcmp(lcfs_node_get_xattr_name(n, 0), "user.c") == 0);
	CHECK(strcmp(lcfs_node_get_xattr_name(n, 1), "user.b") == 0);
	CHECK(strcmp(lcfs_node_get_xattr_name(n, 2), "user.a") == 0);
	CHECK(lcfs_node_get_xattr_name(n, 3) == NULL);
	CHECK(lcfs_node_unset_xattr(n, "user.b") == 0);
	CHECK(lcfs_node_get_n_xattr(n) == 2 && strcmp(lcfs_node_get_xattr_name(n, 1), "user.a") == 0);
	CHECK(memcmp(lcfs_node_get_xattr(n, "user.a", &len), "4", 1) == 0 && len == 1);
	/* values are bytes; an empty one is found (non-NULL) */
	CHECK(lcfs_node_set_xattr(n, "user.nul", "a\0b", 3) == 0);
	CHECK(memcmp(lcfs_node_get_xattr(n, "user.nul", &len), "a\0b", 3) == 0 && len == 3);
	CHECK(lcfs_node_set_xattr(n, "user.empty", NULL, 0) == 0);
	CHECK(lcfs_node_get_xattr(n, "user.empty", &len) != NULL && len == 0);
	/* upstream's test-lcfs: a double add keeps the last value */
	CHECK(lcfs_node_set_xattr(n, "user.foo", "bar", 3) == 0);
	CHECK(lcfs_node_set_xattr(n, "user.foo", "baz", 3) == 0);
	CHECK(memcmp(lcfs_node_get_xattr(n, "user.foo", &len), "baz", 3) == 0 && len == 3);
	lcfs_node_unref(n);
}

static void test_links_and_clones(void)
{
	struct lcfs_node_s *root = node(S_IFDIR | 0755), *f = node(S_IFREG | 0644);
	struct lcfs_node_s *l1 = lcfs_node_new(), *l2 = lcfs_node_new(), *copy, *deep;
	uint8_t d1[LCFS_DIGEST_SIZE], d2[LCFS_DIGEST_SIZE];

	CHECK(lcfs_node_set_content(f, (const uint8_t *)"data", 4) == 0);
	CHECK(lcfs_node_set_xattr(f, "user.k", "v", 1) == 0);
	CHECK(lcfs_node_add_child(root, f, "f") == 0);
	lcfs_node_make_hardlink(l1, f);
	CHECK(lcfs_node_get_hardlink_target(l1) == f && lcfs_node_get_nlink(f) == 2);
	lcfs_node_make_hardlink(l2, l1); /* a chain: the immediate target counts */
	CHECK(lcfs_node_get_nlink(l1) == 2 && lcfs_node_get_nlink(f) == 2);
	CHECK(lcfs_node_add_child(root, l1, "l1") == 0);
	CHECK(lcfs_node_add_child(root, l2, "l2") == 0);
	CHECK(write_tree(root, d1) == 0);

	/* a shallow clone copies data and shares the link target */
	copy = lcfs_node_clone(f);
	CHECK(lcfs_node_get_name(copy) == NULL && lcfs_node_get_parent(copy) == NULL);
	CHECK(lcfs_node_get_size(copy) == 4 && memcmp(lcfs_node_get_content(copy), "data", 4) == 0);
	CHECK(lcfs_node_get_n_xattr(copy) == 1 && lcfs_node_get_nlink(copy) == 2);
	lcfs_node_unref(copy);
	copy = lcfs_node_clone(l1);
	CHECK(lcfs_node_get_hardlink_target(copy) == f);
	lcfs_node_unref(copy);

	/* a deep clone re-points links inside it; it writes the same image */
	deep = lcfs_node_clone_deep(root);
	CHECK(deep != NULL && lcfs_node_get_n_children(deep) == 3);
	CHECK(lcfs_node_get_hardlink_target(lcfs_node_lookup_child(deep, "l1")) == lcfs_node_lookup_child(deep, "f"));
	CHECK(write_tree(deep, d2) == 0 && memcmp(d1, d2, sizeof d1) == 0);
	lcfs_node_unref(root); /* the clone does not depend on the original */
	CHECK(write_tree(deep, d2) == 0 && memcmp(d1, d2, sizeof d1) == 0);

	/* cycles and self-links are refused, and make the tree unwritable */
	{
		struct lcfs_node_s *self = lcfs_node_new();
		lcfs_node_make_hardlink(self, self); /* upstream aborts */
		CHECK(lcfs_node_get_hardlink_target(self) == NULL);
		CHECK(lcfs_node_add_child(deep, self, "self") == 0);
		FAILS_WITH(write_tree(deep, NULL), EINVAL);
	}
	lcfs_node_unref(deep);
	{
		struct lcfs_node_s *top = node(S_IFDIR | 0755), *a = lcfs_node_new(), *b = lcfs_node_new();
		lcfs_node_make_hardlink(a, b);
		lcfs_node_make_hardlink(b, a); /* would close a cycle */
		CHECK(lcfs_node_get_hardlink_target(b) == NULL);
		CHECK(lcfs_node_add_child(top, a, "a") == 0 && lcfs_node_add_child(top, b, "b") == 0);
		FAILS_WITH(write_tree(top, NULL), EINVAL);
		lcfs_node_unref(top);
	}
	/* a link whose target is outside the written tree */
	{
		struct lcfs_node_s *top = node(S_IFDIR | 0755), *out = node(S_IFREG | 0644), *l = lcfs_node_new();
		lcfs_node_make_hardlink(l, out);
		CHECK(lcfs_node_add_child(top, l, "l") == 0);
		FAILS_WITH(write_tree(top, NULL), EINVAL);
		lcfs_node_unref(top);
		lcfs_node_unref(out);
	}
	/* clone_deep of a non-directory holding children */
	{
		struct lcfs_node_s *top = node(S_IFDIR | 0755);
		CHECK(lcfs_node_add_child(top, node(S_IFREG), "x") == 0);
		lcfs_node_set_mode(top, S_IFREG | 0644);
		errno = 0;
		CHECK(lcfs_node_clone_deep(top) == NULL && errno == ENOTDIR);
		lcfs_node_unref(top);
	}
}

static void test_write_errors(void)
{
	struct lcfs_node_s *root = node(S_IFDIR | 0755), *child;
	struct lcfs_write_options_s o = { LCFS_FORMAT_EROFS };
	uint8_t d[LCFS_DIGEST_SIZE];

	o.flags = 1;
	FAILS_WITH(lcfs_write_to(root, &o), EINVAL);
	o.flags = 0;
	o.version = 2;
	FAILS_WITH(lcfs_write_to(root, &o), EINVAL);
	o.version = 0;
	o.max_version = 2;
	FAILS_WITH(lcfs_write_to(root, &o), EINVAL);
	o.max_version = 0;
	o.format = 1;
	FAILS_WITH(lcfs_write_to(root, &o), EINVAL);
	o.format = LCFS_FORMAT_EROFS;
	o.version = 1; /* max_version below version is raised */
	CHECK(lcfs_write_to(root, &o) == 0 && o.max_version == 1 && o.version == 1);

	/* a whiteout raises version 0 to 1 when max_version allows */
	child = node(S_IFCHR | 0644);
	CHECK(lcfs_node_add_child(root, child, "wh") == 0);
	o.version = 0;
	o.max_version = 1;
	CHECK(lcfs_write_to(root, &o) == 0 && o.version == 1);
	o.version = 0;
	o.max_version = 0;
	CHECK(lcfs_write_to(root, &o) == 0 && o.version == 0);

	/* upstream's test-lcfs: an uninitialised child can be added, not written */
	CHECK(lcfs_node_add_child(root, lcfs_node_new(), "uninit") == 0);
	FAILS_WITH(write_tree(root, NULL), EINVAL);
	lcfs_node_unref(root);

	/* a regular-file root; a symlink without a target; > 2^53 bytes */
	root = node(S_IFREG | 0644);
	FAILS_WITH(write_tree(root, NULL), ENOTDIR);
	lcfs_node_unref(root);
	root = node(S_IFDIR | 0755);
	child = node(S_IFLNK | 0777);
	CHECK(lcfs_node_add_child(root, child, "sym") == 0);
	FAILS_WITH(write_tree(root, NULL), EINVAL); /* upstream aborts */
	CHECK(lcfs_node_set_symlink_payload(child, "t") == 0 && write_tree(root, NULL) == 0);
	child = node(S_IFREG | 0644);
	CHECK(lcfs_node_add_child(root, child, "big") == 0);
	lcfs_node_set_size(child, (1ULL << 53) + 1);
	FAILS_WITH(write_tree(root, NULL), EFBIG);
	lcfs_node_set_size(child, 1ULL << 53);
	CHECK(write_tree(root, d) == 0);

	lcfs_node_unref(root);
}

static ssize_t fail_enospc(void *file, void *buf, size_t count)
{
	(void)file, (void)buf, (void)count;
	errno = ENOSPC;
	return -1;
}

static ssize_t fail_silently(void *file, void *buf, size_t count)
{
	(void)file, (void)buf, (void)count;
	return 0;
}

/* Takes 100 bytes at a time: the library must offer the rest again. */
static ssize_t trickle(void *file, void *buf, size_t count)
{
	return collect(file, buf, count < 100 ? count : 100);
}

static void test_write_callbacks(void)
{
	struct lcfs_node_s *root = node(S_IFDIR | 0755);
	struct lcfs_write_options_s o = { LCFS_FORMAT_EROFS };
	struct image whole, pieces = { 0 };

	o.file_write_cb = fail_enospc;
	FAILS_WITH(lcfs_write_to(root, &o), ENOSPC);
	o.file_write_cb = fail_silently;
	FAILS_WITH(lcfs_write_to(root, &o), EIO);
	whole = image_of(root);
	o.file_write_cb = trickle;
	o.file = &pieces;
	CHECK(lcfs_write_to(root, &o) == 0);
	CHECK(pieces.size == whole.size && memcmp(pieces.data, whole.data, whole.size) == 0);
	free(whole.data);
	free(pieces.data);
	lcfs_node_unref(root);
}

static void test_load(void)
{
	struct lcfs_node_s *root = node(S_IFDIR | 0755), *loaded, *f;
	struct image img;
	struct lcfs_read_options_s ro = { 0 };
	const char *const only_b[] = { "b", "nonexistent", NULL };
	const char *const none[] = { NULL };
	size_t len;

	f = node(S_IFREG | 0644);
	lcfs_node_set_size(f, 1000);
	CHECK(lcfs_node_set_payload(f, "abc") == 0); /* upstream's loader read "abc\xff\xff" */
	CHECK(lcfs_node_add_child(root, f, "a") == 0);
	f = node(S_IFDIR | 0700);
	CHECK(lcfs_node_set_xattr(f, "trusted.overlay.mine", "x", 1) == 0);
	CHECK(lcfs_node_set_xattr(f, "system.posix_acl_default", "", 0) == 0);
	CHECK(lcfs_node_add_child(root, f, "b") == 0);
	CHECK(lcfs_node_add_child(f, node(S_IFCHR | 0600), "wh") == 0);
	img = image_of(root);

	loaded = lcfs_load_node_from_image(img.data, img.size);
	CHECK(loaded != NULL && lcfs_node_get_n_children(loaded) == 2);
	CHECK(strcmp(lcfs_node_get_payload(lcfs_node_lookup_child(loaded, "a")), "abc") == 0);
	f = lcfs_node_lookup_child(loaded, "b");
	CHECK(memcmp(lcfs_node_get_xattr(f, "trusted.overlay.mine", &len), "x", 1) == 0);
	/* an empty 4-byte entry that ends the list is read (upstream dropped it) */
	CHECK(lcfs_node_get_xattr(f, "system.posix_acl_default", &len) != NULL && len == 0);
	CHECK(lcfs_node_get_mode(lcfs_node_lookup_child(f, "wh")) == (S_IFCHR | 0600));
	{
		struct image again = image_of(loaded);
		CHECK(again.size == img.size && memcmp(again.data, img.data, img.size) == 0);
		free(again.data);
	}
	lcfs_node_unref(loaded);

	ro.toplevel_entries = only_b;
	loaded = lcfs_load_node_from_image_ext(img.data, img.size, &ro);
	CHECK(lcfs_node_get_n_children(loaded) == 1 && lcfs_node_lookup_child(loaded, "b") != NULL);
	lcfs_node_unref(loaded);
	ro.toplevel_entries = none;
	loaded = lcfs_load_node_from_image_ext(img.data, img.size, &ro);
	CHECK(lcfs_node_get_n_children(loaded) == 0);
	lcfs_node_unref(loaded);
	loaded = lcfs_load_node_from_image_ext(img.data, img.size, NULL); /* upstream aborts */
	CHECK(loaded != NULL);
	lcfs_node_unref(loaded);

	/* errors: short, bad magic, header version, bad EROFS magic, corrupt */
	errno = 0;
	CHECK(lcfs_load_node_from_image(img.data, 4095) == NULL && errno == EINVAL);
	img.data[0] ^= 1;
	errno = 0;
	CHECK(lcfs_load_node_from_image(img.data, img.size) == NULL && errno == EINVAL);
	img.data[0] ^= 1;
	img.data[4] = 2;
	errno = 0;
	CHECK(lcfs_load_node_from_image(img.data, img.size) == NULL && errno == ENOTSUP);
	img.data[4] = 1;
	img.data[1024] ^= 1;
	errno = 0;
	CHECK(lcfs_load_node_from_image(img.data, img.size) == NULL && errno == EINVAL);
	img.data[1024] ^= 1;
	for (size_t at = 1024 + 128; at < 4096; at += 7) { /* corrupt inodes: errors, never crashes */
		uint8_t saved = img.data[at];
		img.data[at] ^= 0xff;
		loaded = lcfs_load_node_from_image(img.data, img.size);
		if (loaded != NULL)
			lcfs_node_unref(loaded);
		img.data[at] = saved;
	}

	/* a whiteout inode named more than once (upstream's use-after-free; now EINVAL there
	 * too): one of the root's 00..ff whiteouts (compact inode, char 0/0, mode 0644) is
	 * given nlink 2 */
	{
		struct image copy = { malloc(img.size), img.size };
		size_t at = 1152;
		memcpy(copy.data, img.data, img.size);
		for (; at + 32 <= 4096; at += 32) {
			const uint8_t *i = copy.data + at;
			if ((i[0] & 1) == 0 && i[4] == 0xa4 && i[5] == 0x21 && i[6] == 1 && i[7] == 0 &&
			    i[16] == 0 && i[17] == 0 && i[18] == 0 && i[19] == 0)
				break;
		}
		CHECK(at + 32 <= 4096);
		copy.data[at + 6] = 2;
		errno = 0;
		CHECK(lcfs_load_node_from_image(copy.data, copy.size) == NULL && errno == EINVAL);
		free(copy.data);
	}

	/* from a file: version, load; empty file and pipe */
	{
		char path[] = "/tmp/capi-load.XXXXXX";
		int fd = mkstemp(path), pipefd[2];
		CHECK(write(fd, img.data, img.size) == (ssize_t)img.size);
		CHECK(lcfs_version_from_fd(fd) == 1);
		CHECK(lseek(fd, 0, SEEK_CUR) == (off_t)img.size); /* offset untouched */
		loaded = lcfs_load_node_from_fd(fd);
		CHECK(loaded != NULL && lcfs_node_get_n_children(loaded) == 2);
		lcfs_node_unref(loaded);
		CHECK(ftruncate(fd, 0) == 0);
		errno = 0;
		CHECK(lcfs_version_from_fd(fd) == -1 && errno == EINVAL); /* upstream: SIGBUS */
		errno = 0;
		CHECK(lcfs_load_node_from_fd(fd) == NULL && errno == EINVAL);
		close(fd);
		unlink(path);
		CHECK(pipe(pipefd) == 0);
		errno = 0;
		CHECK(lcfs_load_node_from_fd(pipefd[0]) == NULL && errno == ENODEV);
		close(pipefd[0]);
		close(pipefd[1]);
	}
	free(img.data);
	lcfs_node_unref(root);
}

struct stream {
	const uint8_t *data;
	size_t size, at;
	int fail;
};

static ssize_t read_stream(void *file, void *buf, size_t count)
{
	struct stream *s = file;
	size_t n = s->size - s->at < count ? s->size - s->at : count;
	if (s->fail)
		return -1;
	memcpy(buf, s->data + s->at, n);
	s->at += n;
	return (ssize_t)n;
}

static void test_verity(void)
{
	static uint8_t zeros[524289];
	static const struct {
		const char *data;
		size_t size;
		const char *digest;
	} vectors[] = {
		{ "", 0, "3d248ca542a24fc62d1c43b916eae5016878e2533c88238480b26128a1f1af95" },
		{ "hello world\n", 12, "37061ef2ac4c21bec68489b56138c5780306a4ad7fe6676236ecdf2c9027cd92" },
		{ "foo bar baz\n", 12, "91e7d88cb7bc9cf6d8db3b0ecf89af4abf204bef5b3ade5113d5b62ef374e70b" },
		{ "hello world", 11, "1e2eaa4202d750a41174ee454970b92c1bc2f925b1e35076d8c7d5f56362ba64" },
		{ "hello", 5, "555b589c26ee43b7a2510e6c67ced9fb3190b6da6e9e683984551f5d77a763de" },
		{ NULL, 1, "b803429503d95915829b29fdbc8bbad142f3abfd11b1cadf5526582e685c0551" },
		{ NULL, 4096, "babc284ee4ffe7f449377fbf6692715b43aec7bc39c094a95878904d34bac97e" },
		{ NULL, 4097, "093756e4ea9683329106d4a16982682ed182c14bf076463a9e7f97305cbac743" },
		{ NULL, 524288, "2d15bd7832895de85aa3d5bdfb57251e27bbec75ff467408340ab3eba858a2e1" },
		{ NULL, 524289, "e4143a5705610b7ad2eb85482cfc033c7062a89b9faf9118603f592d53fd10e0" },
	};
	uint8_t d[LCFS_DIGEST_SIZE];
	char path[] = "/tmp/capi-verity.XXXXXX";
	int fd = mkstemp(path);

	for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++) {
		const uint8_t *data = vectors[i].data ? (const uint8_t *)vectors[i].data : zeros;
		struct stream s = { data, vectors[i].size, 0, 0 };
		struct lcfs_node_s *n = lcfs_node_new();
		CHECK(lcfs_compute_fsverity_from_data(d, (uint8_t *)data, vectors[i].size) == 0);
		CHECK_MSG(strcmp(hex(d, sizeof d), vectors[i].digest) == 0, "data %zu", i);
		CHECK(lcfs_compute_fsverity_from_content(d, &s, read_stream) == 0);
		CHECK_MSG(strcmp(hex(d, sizeof d), vectors[i].digest) == 0, "content %zu", i);
		CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, data, vectors[i].size, 0) == (ssize_t)vectors[i].size);
		CHECK(lseek(fd, 0, SEEK_SET) == 0);
		CHECK(lcfs_compute_fsverity_from_fd(d, fd) == 0);
		CHECK_MSG(strcmp(hex(d, sizeof d), vectors[i].digest) == 0, "fd %zu", i);
		CHECK(lseek(fd, 0, SEEK_SET) == 0 && lcfs_node_set_fsverity_from_fd(n, fd) == 0);
		CHECK(strcmp(hex(lcfs_node_get_fsverity_digest(n), 32), vectors[i].digest) == 0);
		s.at = 0;
		CHECK(lcfs_node_set_fsverity_from_content(n, &s, read_stream) == 0);
		CHECK(strcmp(hex(lcfs_node_get_fsverity_digest(n), 32), vectors[i].digest) == 0);
		/* the kernel has no digest for this file (no fs-verity here, or not enabled):
		 * lcfs_fd_get_fsverity computes it from offset 0 */
		if (lcfs_fd_measure_fsverity(d, fd) != 0) {
			CHECK(errno == ENOVERITY);
			CHECK(lseek(fd, 1, SEEK_SET) == 1);
			CHECK(lcfs_fd_get_fsverity(d, fd) == 0);
			CHECK(strcmp(hex(d, sizeof d), vectors[i].digest) == 0);
		}
		lcfs_node_unref(n);
	}
	/* from_fd reads from the current offset */
	CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, "xhello", 6, 0) == 6 && lseek(fd, 1, SEEK_SET) == 1);
	CHECK(lcfs_compute_fsverity_from_fd(d, fd) == 0);
	CHECK(strcmp(hex(d, sizeof d), "555b589c26ee43b7a2510e6c67ced9fb3190b6da6e9e683984551f5d77a763de") == 0);
	/* failed reads are ENODATA; the node's digest stays as it was */
	{
		struct stream s = { zeros, 10, 0, 1 };
		struct lcfs_node_s *n = lcfs_node_new();
		FAILS_WITH(lcfs_compute_fsverity_from_content(d, &s, read_stream), ENODATA);
		FAILS_WITH(lcfs_node_set_fsverity_from_content(n, &s, read_stream), ENODATA);
		CHECK(lcfs_node_get_fsverity_digest(n) == NULL);
		lcfs_node_unref(n);
		int wfd = open(path, O_WRONLY);
		FAILS_WITH(lcfs_compute_fsverity_from_fd(d, wfd), ENODATA);
		close(wfd);
	}
	/* upstream's test-lcfs: a fresh file has no kernel digest */
	CHECK(lcfs_fd_measure_fsverity(d, fd) == -ENOVERITY && errno == ENOVERITY);
	CHECK(lcfs_fd_measure_fsverity(d, -1) == -EBADF && errno == EBADF);
	CHECK(lcfs_fd_get_fsverity(d, -1) == -EBADF);
	{ /* enabling needs a read-only fd and a filesystem that has fs-verity */
		int r = lcfs_fd_enable_fsverity(fd);
		CHECK(r < 0 && r == -errno);
	}
	close(fd);
	unlink(path);
}

static void write_file(const char *path, const char *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0 && write(fd, data, size) == (ssize_t)size);
	close(fd);
}

static void test_build(void)
{
	char dir[] = "/tmp/capi-build.XXXXXX", path[256], *failed = NULL;
	static char big[100];
	struct lcfs_node_s *n, *root;
	struct timespec t;
	int dfd;

	CHECK(mkdtemp(dir) != NULL);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	memset(big, 'b', sizeof big);
	write_file(strcat(strcpy(path, dir), "/small"), "hello world", 11);
	write_file(strcat(strcpy(path, dir), "/big"), big, sizeof big);
	write_file(strcat(strcpy(path, dir), "/empty"), "", 0);
	CHECK(symlinkat("small", dfd, "link") == 0);
	CHECK(mkdirat(dfd, "sub", 0700) == 0);
	CHECK(mknodat(dfd, "sub/fifo", S_IFIFO | 0600, 0) == 0);

	/* one node: flags checked, symlink target, digest, inline content, object path */
	errno = 0;
	CHECK(lcfs_load_node_from_file(dfd, "small", 0x80) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(lcfs_load_node_from_file(dfd, "small", LCFS_BUILD_SKIP_XATTRS | LCFS_BUILD_USER_XATTRS) == NULL &&
	      errno == EINVAL);
	errno = 0;
	CHECK(lcfs_load_node_from_file(dfd, "missing", 0) == NULL && errno == ENOENT);
	n = lcfs_load_node_from_file(dfd, "link", 0);
	CHECK(n != NULL && S_ISLNK(lcfs_node_get_mode(n)) && strcmp(lcfs_node_get_payload(n), "small") == 0);
	CHECK(lcfs_node_get_size(n) == 5);
	lcfs_node_unref(n);
	n = lcfs_load_node_from_file(dfd, "small", LCFS_BUILD_COMPUTE_DIGEST | LCFS_BUILD_BY_DIGEST);
	CHECK(n != NULL && lcfs_node_get_size(n) == 11 && memcmp(lcfs_node_get_content(n), "hello world", 11) == 0);
	CHECK(strcmp(hex(lcfs_node_get_fsverity_digest(n), 32),
		     "1e2eaa4202d750a41174ee454970b92c1bc2f925b1e35076d8c7d5f56362ba64") == 0);
	CHECK(strcmp(lcfs_node_get_payload(n), "1e/2eaa4202d750a41174ee454970b92c1bc2f925b1e35076d8c7d5f56362ba64") == 0);
	lcfs_node_get_mtime(n, &t);
	CHECK(t.tv_sec != 0);
	lcfs_node_unref(n);
	n = lcfs_load_node_from_file(dfd, "small", LCFS_BUILD_BY_DIGEST | LCFS_BUILD_NO_INLINE | LCFS_BUILD_USE_EPOCH);
	CHECK(lcfs_node_get_fsverity_digest(n) == NULL && lcfs_node_get_payload(n) != NULL); /* only named it */
	CHECK(lcfs_node_get_content(n) == NULL);
	lcfs_node_get_mtime(n, &t);
	CHECK(t.tv_sec == 0 && t.tv_nsec == 0);
	lcfs_node_unref(n);
	n = lcfs_load_node_from_file(dfd, "big", 0); /* no flags: nothing read */
	CHECK(lcfs_node_get_fsverity_digest(n) == NULL && lcfs_node_get_payload(n) == NULL &&
	      lcfs_node_get_content(n) == NULL && lcfs_node_get_size(n) == 100);
	CHECK(lcfs_node_set_from_content(n, dfd, "big", LCFS_BUILD_COMPUTE_DIGEST) == 0);
	CHECK(lcfs_node_get_fsverity_digest(n) != NULL && lcfs_node_get_content(n) == NULL);
	lcfs_node_set_size(n, 50);
	CHECK(lcfs_node_set_from_content(n, dfd, "big", 0) == 0); /* 50 bytes: inline */
	CHECK(lcfs_node_get_content(n) != NULL && memcmp(lcfs_node_get_content(n), big, 50) == 0);
	lcfs_node_set_size(n, 60);
	FAILS_WITH(lcfs_node_set_from_content(n, dfd, "small", 0), ENODATA); /* shorter than its size */
	FAILS_WITH(lcfs_node_set_from_content(n, dfd, "missing", 0), ENOENT);
	lcfs_node_unref(n);

	/* a tree: children sorted, nlink left to the writer, failed paths named */
	root = lcfs_build(AT_FDCWD, dir, LCFS_BUILD_COMPUTE_DIGEST | LCFS_BUILD_BY_DIGEST, &failed);
	CHECK(root != NULL && lcfs_node_get_n_children(root) == 5);
	CHECK(strcmp(lcfs_node_get_name(lcfs_node_get_child(root, 0)), "big") == 0);
	CHECK(lcfs_node_get_payload(lcfs_node_lookup_child(root, "big")) != NULL);
	CHECK(S_ISFIFO(lcfs_node_get_mode(lcfs_node_lookup_child(lcfs_node_lookup_child(root, "sub"), "fifo"))));
	CHECK(write_tree(root, NULL) == 0);
	lcfs_node_unref(root);
	root = lcfs_build(dfd, "small", 0, &failed); /* not a directory: one node */
	CHECK(root != NULL && S_ISREG(lcfs_node_get_mode(root)));
	lcfs_node_unref(root);
	errno = 0;
	CHECK(lcfs_build(AT_FDCWD, "/nonexistent/x", 0, &failed) == NULL && errno == ENOENT);
	CHECK(failed != NULL && strcmp(failed, "/nonexistent/x") == 0);
	free(failed);
	failed = NULL;
	errno = 0;
	CHECK(lcfs_build(AT_FDCWD, dir, 1 << 9, &failed) == NULL && errno == EINVAL);
	free(failed);
	failed = NULL;
	if (geteuid() != 0) { /* root reads everything: an unreadable file fails only for users */
		CHECK(fchmodat(dfd, "big", 0, 0) == 0);
		errno = 0;
		CHECK(lcfs_build(AT_FDCWD, dir, LCFS_BUILD_COMPUTE_DIGEST, &failed) == NULL && errno == EACCES);
		CHECK(failed != NULL && strcmp(failed + strlen(dir), "/big") == 0);
		free(failed);
		failed = NULL;
	}
	/* xattrs: user.* only, or none */
	if (fsetxattr(dfd, "user.k", "v", 1, 0) == 0) {
		root = lcfs_build(AT_FDCWD, dir, LCFS_BUILD_USER_XATTRS, NULL);
		CHECK(lcfs_node_get_xattr(root, "user.k", NULL) != NULL);
		lcfs_node_unref(root);
		root = lcfs_build(AT_FDCWD, dir, LCFS_BUILD_SKIP_XATTRS, NULL);
		CHECK(lcfs_node_get_n_xattr(root) == 0);
		lcfs_node_unref(root);
	}
	unlinkat(dfd, "sub/fifo", 0);
	unlinkat(dfd, "sub", AT_REMOVEDIR);
	unlinkat(dfd, "small", 0);
	unlinkat(dfd, "big", 0);
	unlinkat(dfd, "empty", 0);
	unlinkat(dfd, "link", 0);
	close(dfd);
	rmdir(dir);
}

/* Everything a mount checks before it touches the system: no privileges needed. */
static void test_mount_options(void)
{
	const char *objdirs[] = { "/tmp" };
	struct lcfs_mount_options_s o = { objdirs, 1 };
	char path[] = "/tmp/capi-notimage.XXXXXX";
	int fd = mkstemp(path);

	CHECK(write(fd, "not an image at all, but long enough to have a header", 53) == 53);
	o.flags = 1 << 5;
	FAILS_WITH(lcfs_mount_fd(fd, "/tmp", &o), EINVAL);
	o.flags = 0;
	o.n_objdirs = 0;
	FAILS_WITH(lcfs_mount_fd(fd, "/tmp", &o), EINVAL);
	o.n_objdirs = 1;
	o.upperdir = "/tmp";
	FAILS_WITH(lcfs_mount_fd(fd, "/tmp", &o), EINVAL);
	o.upperdir = NULL;
	o.expected_fsverity_digest = "abc";
	FAILS_WITH(lcfs_mount_fd(fd, "/tmp", &o), EINVAL);
	o.expected_fsverity_digest = NULL;
	o.flags = LCFS_MOUNT_FLAGS_IDMAP;
	o.idmap_fd = -1;
	FAILS_WITH(lcfs_mount_fd(fd, "/tmp", &o), EINVAL);
	o.flags = 0;
	FAILS_WITH(lcfs_mount_image("/nonexistent.cfs", "/tmp", &o), ENOENT);
	/* the digest is checked with or without fs-verity on the image */
	o.expected_fsverity_digest = "0000000000000000000000000000000000000000000000000000000000000000";
	FAILS_WITH(lcfs_mount_fd(fd, "/tmp", &o), EWRONGVERITY);
	o.expected_fsverity_digest = "";
	FAILS_WITH(lcfs_mount_fd(fd, "/tmp", &o), EINVAL); /* no check, then: not an image */
	FAILS_WITH(lcfs_mount_image(path, "/tmp", &o), EINVAL);
	close(fd);
	unlink(path);
}

int main(void)
{
	test_tree();
	test_deep_chains();
	test_attributes();
	test_xattrs();
	test_links_and_clones();
	test_write_errors();
	test_write_callbacks();
	test_load();
	test_verity();
	test_build();
	test_mount_options();
	return report("api");
}
