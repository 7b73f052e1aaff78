/* Rebuilds a tree from dump_records' output with lcfs_node_* calls, as upstream mkcomposefs
 * --from-file builds it, and writes the image with lcfs_write_to:
 *   build_from_records RECORDS OUTPUT MIN_VERSION MAX_VERSION
 * Prints the digest_out of the write. */
#include <libcomposefs/lcfs-writer.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what)
{
	fprintf(stderr, "build_from_records: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Decodes a hex field ("-" is empty) in place; returns its length. */
static size_t unhex(char *s)
{
	size_t n = 0;
	if (strcmp(s, "-") == 0) {
		s[0] = '\0';
		return 0;
	}
	for (; s[2 * n] != '\0'; n++) {
		unsigned v;
		sscanf(s + 2 * n, "%2x", &v);
		s[n] = (char)v;
	}
	s[n] = '\0';
	return n;
}

static ssize_t to_file(void *file, void *buf, size_t count)
{
	return (ssize_t)fwrite(buf, 1, count, file);
}

struct entry {
	struct lcfs_node_s *node;
	long link;
	uint32_t nlink;
};

int main(int argc, char **argv)
{
	FILE *in, *out;
	char *line = NULL;
	size_t cap = 0, count = 0, room = 0;
	struct entry *entries = NULL;
	uint8_t digest[LCFS_DIGEST_SIZE];
	struct lcfs_write_options_s o = { 0 };

	if (argc != 5)
		return 2;
	in = fopen(argv[1], "r");
	if (in == NULL)
		die(argv[1]);
	while (getline(&line, &cap, in) > 0) {
		char *f[16], *save = NULL, *tok = strtok_r(line, " \n", &save);
		int nf = 0;
		struct lcfs_node_s *n = lcfs_node_new();
		struct timespec t;
		unsigned long nx;
		for (;;) { /* the 16 fixed fields; the xattrs are read after them */
			if (tok == NULL)
				return 1;
			f[nf++] = tok;
			if (nf == 16)
				break;
			tok = strtok_r(NULL, " \n", &save);
		}
		if (count == room) {
			room = room ? 2 * room : 1024;
			entries = realloc(entries, room * sizeof *entries);
		}
		entries[count].node = n;
		entries[count].link = strcmp(f[14], "-") ? atol(f[14]) : -1;
		entries[count].nlink = (uint32_t)strtoul(f[4], NULL, 10);
		count++;
		if (strcmp(f[1], "-") != 0) {
			unhex(f[2]);
			if (lcfs_node_add_child(entries[atol(f[1])].node, n, f[2]) != 0)
				die("lcfs_node_add_child");
		}
		if (entries[count - 1].link >= 0)
			continue; /* a hard link: only its target matters */
		lcfs_node_set_mode(n, (uint32_t)strtoul(f[3], NULL, 10));
		lcfs_node_set_uid(n, (uint32_t)strtoul(f[5], NULL, 10));
		lcfs_node_set_gid(n, (uint32_t)strtoul(f[6], NULL, 10));
		lcfs_node_set_rdev64(n, strtoull(f[7], NULL, 10));
		lcfs_node_set_size(n, strtoull(f[8], NULL, 10));
		t.tv_sec = strtoll(f[9], NULL, 10);
		t.tv_nsec = strtol(f[10], NULL, 10);
		lcfs_node_set_mtime(n, &t);
		if (unhex(f[11]) > 0) {
			if (S_ISLNK(lcfs_node_get_mode(n)) ? lcfs_node_set_symlink_payload(n, f[11])
							   : lcfs_node_set_payload(n, f[11]))
				die("payload");
		}
		{
			size_t len = unhex(f[12]);
			if (len > 0 && lcfs_node_set_content(n, (uint8_t *)f[12], len) != 0)
				die("lcfs_node_set_content");
		}
		if (unhex(f[13]) == LCFS_DIGEST_SIZE)
			lcfs_node_set_fsverity_digest(n, (uint8_t *)f[13]);
		nx = strtoul(f[15], NULL, 10);
		for (unsigned long i = 0; i < nx; i++) {
			char *name = strtok_r(NULL, " \n", &save), *value = strtok_r(NULL, " \n", &save);
			size_t len;
			unhex(name);
			len = unhex(value);
			if (lcfs_node_set_xattr(n, name, value, len) != 0)
				die("lcfs_node_set_xattr");
		}
	}
	/* Links last (a target may come later in the file), then the dump's nlink, as
	 * mkcomposefs sets it over what make_hardlink counted. */
	for (size_t i = 0; i < count; i++)
		if (entries[i].link >= 0)
			lcfs_node_make_hardlink(entries[i].node, entries[entries[i].link].node);
	for (size_t i = 0; i < count; i++)
		if (entries[i].link < 0)
			lcfs_node_set_nlink(entries[i].node, entries[i].nlink);

	out = fopen(argv[2], "w");
	if (out == NULL)
		die(argv[2]);
	o.format = LCFS_FORMAT_EROFS;
	o.version = (uint32_t)atoi(argv[3]);
	o.max_version = (uint32_t)atoi(argv[4]);
	o.digest_out = digest;
	o.file = out;
	o.file_write_cb = to_file;
	if (lcfs_write_to(entries[0].node, &o) != 0)
		die("lcfs_write_to");
	if (fclose(out) != 0)
		die("fclose");
	for (size_t i = 0; i < LCFS_DIGEST_SIZE; i++)
		printf("%02x", digest[i]);
	printf("\n");
	lcfs_node_unref(entries[0].node);
	free(entries);
	free(line);
	fclose(in);
	return 0;
}
