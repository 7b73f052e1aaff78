/* What ostree does with the library, end to end (libcomposefs(3) "ostree"): a tree built by
 * hand (top node, "root", ensured directories), files in a bare-repo-like object store named
 * xx/<62 hex>.file, fs-verity digests from content, the image written with its digest (and
 * the digest alone, as at commit time), then mounted in the initramfs way: a relative image
 * path, objdirs, READONLY | REQUIRE_VERITY, expected_fsverity_digest, image_mountdir; also a
 * transient writable root (upperdir/workdir), and a refused wrong digest; then the options
 * ostree does not use: TRY_VERITY and an id-mapped image layer (IDMAP). Needs root. */
#include <libcomposefs/lcfs-mount.h>
#include <libcomposefs/lcfs-writer.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static char work[] = "/tmp/capi-ostree.XXXXXX";
static char path_buf[4096];

static const char *at(const char *rel)
{
	snprintf(path_buf, sizeof path_buf, "%s/%s", work, rel);
	return path_buf;
}

struct reader {
	int fd;
};

static ssize_t read_fd(void *file, void *buf, size_t count)
{
	return read(((struct reader *)file)->fd, buf, count);
}

static ssize_t write_fd(void *file, void *buf, size_t count)
{
	for (;;) {
		ssize_t n = write((int)(intptr_t)file, buf, count);
		if (n >= 0 || errno != EINTR)
			return n == 0 ? (errno = ENOSPC, -1) : n;
	}
}

/* Stores `content` as an object and adds a file node for it under `dir`. */
static void add_file(struct lcfs_node_s *dir, const char *name, const char *content, int *objects_with_verity)
{
	struct lcfs_node_s *n = lcfs_node_new();
	uint8_t d[LCFS_DIGEST_SIZE];
	char rel[128], hexd[65];
	struct reader r;
	int fd;

	CHECK(lcfs_compute_fsverity_from_data(d, (uint8_t *)content, strlen(content)) == 0);
	strcpy(hexd, hex(d, sizeof d));
	snprintf(rel, sizeof rel, "repo/objects/%.2s", hexd);
	mkdir(at(rel), 0755);
	snprintf(rel, sizeof rel, "repo/objects/%.2s/%s.file", hexd, hexd + 2);
	fd = open(at(rel), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	CHECK(fd >= 0 && write(fd, content, strlen(content)) == (ssize_t)strlen(content));
	close(fd);
	fd = open(at(rel), O_RDONLY | O_CLOEXEC);
	if (lcfs_fd_enable_fsverity(fd) == 0)
		(*objects_with_verity)++;

	CHECK(lcfs_node_add_child(dir, n, name) == 0); /* ostree adds first, then sets the mode */
	lcfs_node_set_mode(n, S_IFREG | 0644);
	lcfs_node_set_uid(n, 0);
	lcfs_node_set_gid(n, 0);
	lcfs_node_set_size(n, strlen(content));
	CHECK(lcfs_node_set_payload(n, rel + strlen("repo/objects/")) == 0);
	r.fd = fd; /* ostree's fallback when the object has no kernel digest */
	if (lcfs_fd_measure_fsverity(d, fd) == 0)
		lcfs_node_set_fsverity_digest(n, d);
	else
		CHECK(lcfs_node_set_fsverity_from_content(n, &r, read_fd) == 0);
	CHECK(lcfs_node_set_xattr(n, "security.selinux", "system_u:object_r:usr_t:s0", 27) == 0);
	close(fd);
}

static struct lcfs_node_s *dir_node(struct lcfs_node_s *parent, const char *name)
{
	struct lcfs_node_s *n = lcfs_node_lookup_child(parent, name);
	if (n != NULL)
		return n;
	n = lcfs_node_new();
	CHECK(lcfs_node_add_child(parent, n, name) == 0);
	lcfs_node_set_mode(n, S_IFDIR | 0755);
	return n;
}

static int file_is(const char *path, const char *want)
{
	char buf[256] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(want) && memcmp(buf, want, (size_t)n) == 0;
}

static int empty_dir(const char *path)
{
	DIR *d = opendir(path);
	int entries = 0;
	for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
		entries += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	if (d != NULL)
		closedir(d);
	return d != NULL && entries == 0;
}

static int leftover_tmp_dirs(void)
{
	DIR *d = opendir("/tmp");
	int n = 0;
	for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
		n += strncmp(e->d_name, ".composefs.", 11) == 0;
	closedir(d);
	return n;
}

/* A user namespace mapping its uid/gid 0 to 4242 (a child holds it; the caller kills it):
 * an open fd of it for LCFS_MOUNT_FLAGS_IDMAP. */
static int userns_fd(pid_t *holder)
{
	int ready[2], fd;
	char path[64], c;
	if (pipe(ready) != 0)
		return -1;
	*holder = fork();
	if (*holder == 0) {
		close(ready[0]);
		if (unshare(CLONE_NEWUSER) != 0)
			_exit(1);
		c = 'x';
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1)
		return -1;
	close(ready[0]);
	for (const char *const *m = (const char *const[]){ "uid_map", "gid_map", NULL }; *m; m++) {
		snprintf(path, sizeof path, "/proc/%d/%s", (int)*holder, *m);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0 4242 1\n", 9) != 9)
			return -1;
		close(fd);
	}
	snprintf(path, sizeof path, "/proc/%d/ns/user", (int)*holder);
	return open(path, O_RDONLY | O_CLOEXEC);
}

int main(void)
{
	struct lcfs_node_s *top, *root, *lib;
	struct lcfs_write_options_s wo = { LCFS_FORMAT_EROFS };
	uint8_t digest[LCFS_DIGEST_SIZE], commit_digest[LCFS_DIGEST_SIZE];
	static char expected[65], objdir[256], lowerdir[256], upperdir[256], workdir[256];
	const char *objdirs[1] = { objdir };
	struct lcfs_mount_options_s mo = { objdirs, 1 };
	int with_verity = 0, fd, tmp_before;

	if (geteuid() != 0) {
		const char *ci = getenv("CI");
		printf("SKIPPED: the ostree-like mount needs root\n");
		return ci != NULL && strcmp(ci, "true") == 0 ? 1 : 0;
	}
	tmp_before = leftover_tmp_dirs();
	CHECK(mkdtemp(work) != NULL);
	mkdir(at("repo"), 0755);
	mkdir(at("repo/objects"), 0755);
	mkdir(at("deploy"), 0755);
	mkdir(at("mnt"), 0755);
	mkdir(at("cfsroot-lower"), 0700);
	mkdir(at("upper"), 0755);
	mkdir(at("work"), 0755);
	strcpy(objdir, at("repo/objects"));

	/* the tree, as ostree-repo-composefs.c builds it */
	top = lcfs_node_new();
	lcfs_node_set_mode(top, S_IFDIR | 0755);
	root = dir_node(top, "root");
	CHECK(lcfs_node_set_xattr(root, "security.selinux", "system_u:object_r:root_t:s0", 28) == 0);
	add_file(dir_node(root, "usr"), "hello", "hello from the object store\n", &with_verity);
	add_file(dir_node(dir_node(root, "usr"), "share"), "data", "some data\n", &with_verity);
	lib = lcfs_node_new();
	CHECK(lcfs_node_add_child(root, lib, "lib") == 0);
	lcfs_node_set_mode(lib, S_IFLNK | 0777);
	lcfs_node_set_size(lib, 0); /* ostree's symlinks have size 0 and set_payload */
	CHECK(lcfs_node_set_payload(lib, "usr/lib") == 0);
	dir_node(root, "etc"), dir_node(root, "boot"), dir_node(root, "var"), dir_node(root, "sysroot");

	/* commit time: the digest only; deploy time: the image, whose digest must agree */
	wo.max_version = 1;
	wo.digest_out = commit_digest;
	CHECK(lcfs_write_to(root, &wo) == 0);
	fd = open(at("deploy/.ostree.cfs"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	wo.digest_out = digest;
	wo.file = (void *)(intptr_t)fd;
	wo.file_write_cb = write_fd;
	CHECK(lcfs_write_to(root, &wo) == 0 && wo.version == 0);
	close(fd);
	CHECK(memcmp(digest, commit_digest, sizeof digest) == 0);
	strcpy(expected, hex(digest, sizeof digest));
	lcfs_node_unref(top);

	/* prepare-root: relative image path, cwd the deployment */
	CHECK(chdir(at("deploy")) == 0);
	mo.flags = LCFS_MOUNT_FLAGS_READONLY | LCFS_MOUNT_FLAGS_REQUIRE_VERITY;
	mo.image_mountdir = strcpy(lowerdir, at("cfsroot-lower"));
	mo.expected_fsverity_digest = "1111111111111111111111111111111111111111111111111111111111111111";
	errno = 0;
	CHECK(lcfs_mount_image(".ostree.cfs", at("mnt"), &mo) == -1 && errno == EWRONGVERITY);
	CHECK(empty_dir(at("mnt")));
	mo.expected_fsverity_digest = expected;
	if (with_verity == 2) {
		CHECK_MSG(lcfs_mount_image(".ostree.cfs", at("mnt"), &mo) == 0, "%s", strerror(errno));
	} else {
		/* No fs-verity here: objects cannot be verified by the kernel, so REQUIRE_VERITY
		 * is refused at mount time (upstream mounts, then every read fails with EIO). The
		 * image itself is still checked against the digest (a sealed copy is measured). */
		printf("no fs-verity on this machine: REQUIRE_VERITY checked to refuse, mounting without it\n");
		errno = 0;
		CHECK(lcfs_mount_image(".ostree.cfs", at("mnt"), &mo) == -1 && errno == ENOVERITY);
		mo.flags = LCFS_MOUNT_FLAGS_READONLY;
		CHECK_MSG(lcfs_mount_image(".ostree.cfs", at("mnt"), &mo) == 0, "%s", strerror(errno));
	}
	CHECK(file_is(at("mnt/usr/hello"), "hello from the object store\n"));
	CHECK(file_is(at("mnt/usr/share/data"), "some data\n"));
	{
		char target[64] = { 0 };
		struct stat st;
		CHECK(readlink(at("mnt/lib"), target, sizeof target) == 7 && strcmp(target, "usr/lib") == 0);
		CHECK(stat(at("mnt/sysroot"), &st) == 0 && S_ISDIR(st.st_mode));
		CHECK(open(at("mnt/new"), O_WRONLY | O_CREAT, 0644) == -1 && errno == EROFS);
	}
	CHECK(empty_dir(at("cfsroot-lower"))); /* the image layer was detached again, the directory kept */
	CHECK(umount2(at("mnt"), 0) == 0);

	/* a transient writable root, by fd */
	fd = open(".ostree.cfs", O_RDONLY | O_CLOEXEC);
	mo.flags = 0;
	mo.image_mountdir = NULL;
	mo.upperdir = strcpy(upperdir, at("upper"));
	mo.workdir = strcpy(workdir, at("work"));
	CHECK_MSG(lcfs_mount_fd(fd, at("mnt"), &mo) == 0, "%s", strerror(errno));
	close(fd);
	fd = open(at("mnt/etc/written"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1);
	close(fd);
	CHECK(umount2(at("mnt"), 0) == 0);
	CHECK(file_is(at("upper/etc/written"), "x"));

	/* TRY_VERITY mounts whether or not the kernel can enforce it */
	mo.upperdir = mo.workdir = NULL;
	mo.flags = LCFS_MOUNT_FLAGS_TRY_VERITY | LCFS_MOUNT_FLAGS_READONLY;
	CHECK_MSG(lcfs_mount_image(".ostree.cfs", at("mnt"), &mo) == 0, "%s", strerror(errno));
	CHECK(access(at("mnt/usr/hello"), F_OK) == 0);
	CHECK(umount2(at("mnt"), 0) == 0);

	/* an id-mapped image layer: the image's uid 0 shows as 4242 */
	{
		pid_t holder = -1;
		struct stat st;
		mo.flags = LCFS_MOUNT_FLAGS_IDMAP | LCFS_MOUNT_FLAGS_READONLY;
		mo.idmap_fd = userns_fd(&holder);
		CHECK(mo.idmap_fd >= 0);
		CHECK_MSG(lcfs_mount_image(".ostree.cfs", at("mnt"), &mo) == 0, "%s", strerror(errno));
		CHECK(stat(at("mnt/usr/hello"), &st) == 0 && st.st_uid == 4242 && st.st_gid == 4242);
		CHECK(file_is(at("mnt/usr/hello"), "hello from the object store\n"));
		CHECK(umount2(at("mnt"), 0) == 0);
		close(mo.idmap_fd);
		kill(holder, SIGKILL);
		waitpid(holder, NULL, 0);
	}
	CHECK(leftover_tmp_dirs() == tmp_before); /* no temporary directory left behind */

	CHECK(chdir("/") == 0);
	{
		char cmd[4200];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
		CHECK(system(cmd) == 0);
	}
	return report("ostree");
}
