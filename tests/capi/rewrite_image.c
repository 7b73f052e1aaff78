/* What upstream's composefs-dump does through the library: load an image and write it again
 * with the version it has. rewrite_image IMAGE OUTPUT [TOPLEVEL_ENTRY...] */
#include <libcomposefs/lcfs-writer.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static ssize_t to_file(void *file, void *buf, size_t count)
{
	return (ssize_t)fwrite(buf, 1, count, file);
}

int main(int argc, char **argv)
{
	struct lcfs_read_options_s ro = { 0 };
	struct lcfs_write_options_s wo = { 0 };
	struct lcfs_node_s *root;
	FILE *out;
	int fd, version;

	if (argc < 3)
		return 2;
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (version = lcfs_version_from_fd(fd)) < 0) {
		fprintf(stderr, "rewrite_image: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (argc > 3)
		ro.toplevel_entries = (const char *const *)argv + 3;
	root = lcfs_load_node_from_fd_ext(fd, &ro);
	if (root == NULL) {
		fprintf(stderr, "rewrite_image: loading %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	out = fopen(argv[2], "w");
	wo.format = LCFS_FORMAT_EROFS;
	wo.version = (uint32_t)version;
	wo.file = out;
	wo.file_write_cb = to_file;
	if (out == NULL || lcfs_write_to(root, &wo) != 0 || fclose(out) != 0) {
		fprintf(stderr, "rewrite_image: writing %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	lcfs_node_unref(root);
	close(fd);
	return 0;
}
