/* lcfs_build of a directory, written as mkcomposefs DIR writes it (digests, digest paths,
 * small files inline): build_dir DIR OUTPUT. On failure prints the failed path. */
#include <libcomposefs/lcfs-writer.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

static ssize_t to_file(void *file, void *buf, size_t count)
{
	return (ssize_t)fwrite(buf, 1, count, file);
}

int main(int argc, char **argv)
{
	struct lcfs_write_options_s wo = { 0 };
	struct lcfs_node_s *root;
	char *failed = NULL;
	FILE *out;

	if (argc != 3)
		return 2;
	root = lcfs_build(AT_FDCWD, argv[1], LCFS_BUILD_COMPUTE_DIGEST | LCFS_BUILD_BY_DIGEST, &failed);
	if (root == NULL) {
		fprintf(stderr, "build_dir: %s: %s\n", failed ? failed : "?", strerror(errno));
		free(failed);
		return 1;
	}
	out = fopen(argv[2], "w");
	wo.format = LCFS_FORMAT_EROFS;
	wo.max_version = 1;
	wo.file = out;
	wo.file_write_cb = to_file;
	if (out == NULL || lcfs_write_to(root, &wo) != 0 || fclose(out) != 0) {
		fprintf(stderr, "build_dir: writing %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	lcfs_node_unref(root);
	return 0;
}
