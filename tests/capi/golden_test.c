/* The golden images measured on upstream libcomposefs 1.0.8, built
 * through the C API as they were built there: size, SHA-256 of the bytes, digest_out and
 * the version written back. */
#include <libcomposefs/lcfs-writer.h>

#include <errno.h>
#include <openssl/sha.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "check.h"

static struct lcfs_node_s *dir(uint32_t perm)
{
	struct lcfs_node_s *n = lcfs_node_new();
	lcfs_node_set_mode(n, S_IFDIR | perm);
	return n;
}

static struct lcfs_node_s *child(struct lcfs_node_s *parent, const char *name, uint32_t mode)
{
	struct lcfs_node_s *n = lcfs_node_new();
	lcfs_node_set_mode(n, mode);
	CHECK(lcfs_node_add_child(parent, n, name) == 0);
	return n;
}

/* Writes root with versions (version, max) and checks what upstream 1.0.8 measured. */
static void expect_image(const char *id, struct lcfs_node_s *root, uint32_t version, uint32_t max,
			 uint32_t version_out, size_t size, const char *sha256, const char *verity)
{
	struct image s = { 0 };
	uint8_t digest[LCFS_DIGEST_SIZE];
	uint8_t sum[SHA256_DIGEST_LENGTH];
	struct lcfs_write_options_s o = { 0 };
	o.format = LCFS_FORMAT_EROFS;
	o.version = version;
	o.max_version = max;
	o.digest_out = digest;
	o.file = &s;
	o.file_write_cb = collect;
	CHECK_MSG(lcfs_write_to(root, &o) == 0, "%s: write failed: %s", id, strerror(errno));
	CHECK_MSG(o.version == version_out, "%s: version %u", id, o.version);
	CHECK_MSG(s.size == size, "%s: size %zu", id, s.size);
	SHA256(s.data, s.size, sum);
	CHECK_MSG(strcmp(hex(sum, sizeof sum), sha256) == 0, "%s: sha256 %s", id, hex(sum, sizeof sum));
	CHECK_MSG(strcmp(hex(digest, sizeof digest), verity) == 0, "%s: digest %s", id,
		  hex(digest, sizeof digest));
	free(s.data);
}

static struct lcfs_node_s *mixed(void)
{
	static const char selinux[] = "system_u:object_r:root_t:s0";
	uint8_t digest[LCFS_DIGEST_SIZE];
	char payload[3 + 64 + 1] = "ab/";
	struct timespec t = { 1700000000, 5 };
	struct lcfs_node_s *root = dir(0755);
	struct lcfs_node_s *ext = lcfs_node_new(), *extv = lcfs_node_new(), *inl = lcfs_node_new();
	struct lcfs_node_s *sym = lcfs_node_new(), *wh = lcfs_node_new(), *blk = lcfs_node_new();
	struct lcfs_node_s *fifo = lcfs_node_new(), *link = lcfs_node_new();

	lcfs_node_set_mode(ext, S_IFREG | 0644);
	lcfs_node_set_size(ext, 100);
	CHECK(lcfs_node_set_payload(ext, "ab/cdef") == 0);
	lcfs_node_set_mode(extv, S_IFREG | 0644);
	lcfs_node_set_size(extv, 100);
	memset(digest, 0xab, sizeof digest);
	lcfs_node_set_fsverity_digest(extv, digest);
	for (int i = 0; i < 32; i++)
		strcat(payload, "ab");
	CHECK(lcfs_node_set_payload(extv, payload) == 0);
	lcfs_node_set_mode(inl, S_IFREG | 0644);
	CHECK(lcfs_node_set_content(inl, (const uint8_t *)"hello\n", 6) == 0);
	lcfs_node_set_mode(sym, S_IFLNK | 0777);
	CHECK(lcfs_node_set_symlink_payload(sym, "target") == 0);
	lcfs_node_set_mode(wh, S_IFCHR | 0644);
	lcfs_node_set_mode(blk, S_IFBLK | 0660);
	lcfs_node_set_rdev64(blk, makedev(8, 1));
	lcfs_node_set_mode(fifo, S_IFIFO | 0644);
	CHECK(lcfs_node_add_child(root, ext, "ext") == 0);
	CHECK(lcfs_node_add_child(root, extv, "extv") == 0);
	CHECK(lcfs_node_add_child(root, inl, "inl") == 0);
	CHECK(lcfs_node_add_child(root, sym, "sym") == 0);
	CHECK(lcfs_node_add_child(root, wh, "wh") == 0);
	CHECK(lcfs_node_add_child(root, blk, "blk") == 0);
	CHECK(lcfs_node_add_child(root, fifo, "fifo") == 0);
	CHECK(lcfs_node_set_xattr(ext, "user.a", "1", 1) == 0);
	CHECK(lcfs_node_set_xattr(inl, "user.a", "1", 1) == 0);
	CHECK(lcfs_node_set_xattr(inl, "trusted.overlay.x", "y", 1) == 0);
	CHECK(lcfs_node_set_xattr(root, "security.selinux", selinux, strlen(selinux)) == 0);
	lcfs_node_make_hardlink(link, inl);
	CHECK(lcfs_node_add_child(root, link, "inl-link") == 0);
	lcfs_node_set_mtime(root, &t);
	t.tv_nsec = 0;
	lcfs_node_set_mtime(inl, &t);
	lcfs_node_set_uid(inl, 70000);
	return root;
}

static struct lcfs_node_s *ostree_style(struct lcfs_node_s **top_out)
{
	static const char root_label[] = "system_u:object_r:root_t:s0";
	static const char usr_label[] = "system_u:object_r:usr_t:s0";
	static const char *const ensured[] = { "usr", "etc", "boot", "var", "sysroot" };
	uint8_t digest[LCFS_DIGEST_SIZE];
	struct lcfs_node_s *top = dir(0755), *root = lcfs_node_new(), *usr, *file, *n;

	CHECK(lcfs_node_add_child(top, root, "root") == 0);
	lcfs_node_set_mode(root, S_IFDIR | 0755);
	CHECK(lcfs_node_set_xattr(root, "security.selinux", root_label, sizeof root_label) == 0);
	usr = child(root, "usr", S_IFDIR | 0755);
	file = lcfs_node_new();
	CHECK(lcfs_node_add_child(usr, file, "file") == 0);
	lcfs_node_set_mode(file, S_IFREG | 0644);
	lcfs_node_set_uid(file, 0);
	lcfs_node_set_gid(file, 0);
	lcfs_node_set_size(file, 1234);
	CHECK(lcfs_node_set_payload(
		      file,
		      "0b/cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789.file") == 0);
	for (int i = 0; i < 32; i++)
		digest[i] = (uint8_t)i;
	lcfs_node_set_fsverity_digest(file, digest);
	CHECK(lcfs_node_set_xattr(file, "security.selinux", usr_label, sizeof usr_label) == 0);
	n = child(usr, "empty", S_IFREG | 0644);
	lcfs_node_set_size(n, 0);
	n = child(root, "lib", S_IFLNK | 0777);
	lcfs_node_set_size(n, 0);
	CHECK(lcfs_node_set_payload(n, "usr/lib") == 0);
	for (size_t i = 0; i < sizeof ensured / sizeof *ensured; i++)
		if (lcfs_node_lookup_child(root, ensured[i]) == NULL)
			child(root, ensured[i], S_IFDIR | 0755);
	*top_out = top;
	return root;
}

int main(void)
{
	struct lcfs_node_s *root = dir(0755), *top;
	expect_image("V1", root, 0, 0, 0, 16384,
		     "c3dc5b0fc4afb0693a95e017fe5815e1f88f204d485df617541b5ea659aefb8b",
		     "8f589e8f57ecb88823736b0d857ddca1e1068a23e264fad164b28f7038eb3682");
	expect_image("V2", root, 1, 1, 1, 16384,
		     "18e13c704e2aae7f84be9fda89fdc4c5001c184d279b90a93434e872e5e7c190",
		     "14a26c957c84f6eb774b91205476adc13196c7c33b9dd97d08d43725ecb90b63");
	child(root, "somechild", S_IFDIR | 0700);
	expect_image("V3", root, 1, 1, 1, 16384,
		     "f9869da5750573afa80104b55ce5df0605c1b2541cbe840bc0672555282b8d4b",
		     "c377dc67497e0cb0934a28fddb2f944d94f1e14f9fdaf1794e4f6e58ea105864");
	lcfs_node_unref(root);

	root = mixed();
	expect_image("V4", root, 0, 1, 1, 32768,
		     "28ce3fb269e801968912418e36d3f6c587143e53a5ecaef649e5bfecd4a838a8",
		     "d6919c703757acba48c08e60160685678622f6eb8bec77d8d706bf72ff9cc2c3");
	expect_image("V5", root, 0, 0, 0, 32768,
		     "3b6db76dff484af32bdd42e9a384bee42115b13c87e9eb379060b109befe4250",
		     "13c7af0de8ca8887eb2d5b92354b37f90e2d0c6b227c51e34e29846862bfe9b0");
	lcfs_node_unref(root);

	root = ostree_style(&top);
	expect_image("V6", root, 0, 1, 0, 24576,
		     "65d4c9bf8b21a14e2b231b18723d4ff7782e697e60b079afaad28f80d16edde1",
		     "64e9daa6b69bc8c2c3c3721e151c0440629c5d97a91a8b0e30671958cf5a82ba");
	{ /* digest only: no callback */
		uint8_t digest[LCFS_DIGEST_SIZE];
		struct lcfs_write_options_s o = { LCFS_FORMAT_EROFS };
		o.max_version = 1;
		o.digest_out = digest;
		CHECK(lcfs_write_to(root, &o) == 0);
		CHECK(strcmp(hex(digest, sizeof digest),
			     "64e9daa6b69bc8c2c3c3721e151c0440629c5d97a91a8b0e30671958cf5a82ba") == 0);
	}
	lcfs_node_unref(top);
	return report("golden");
}
