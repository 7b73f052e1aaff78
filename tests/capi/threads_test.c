/* Independent trees on different threads, as upstream documents: every thread builds, clones,
 * writes, loads and drops its own trees, and every digest equals the one computed alone. And
 * the nodes of one tree filled from files by several threads at once, as mkcomposefs does. */
#include <libcomposefs/lcfs-writer.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

enum { kThreads = 8, kRounds = 40, kFiles = 300 };

static struct lcfs_node_s *make_tree(void)
{
	struct lcfs_node_s *root = lcfs_node_new(), *dir = lcfs_node_new();
	lcfs_node_set_mode(root, S_IFDIR | 0755);
	lcfs_node_set_mode(dir, S_IFDIR | 0755);
	lcfs_node_add_child(root, dir, "d");
	for (int i = 0; i < kFiles; i++) {
		struct lcfs_node_s *f = lcfs_node_new();
		char name[32], content[16];
		uint8_t digest[LCFS_DIGEST_SIZE];
		snprintf(name, sizeof name, "file-%d", i);
		lcfs_node_set_mode(f, S_IFREG | 0644);
		if (i % 3 == 0) {
			snprintf(content, sizeof content, "c%d", i);
			lcfs_node_set_content(f, (const uint8_t *)content, strlen(content));
		} else {
			lcfs_compute_fsverity_from_data(digest, (uint8_t *)name, strlen(name));
			lcfs_node_set_fsverity_digest(f, digest);
			lcfs_node_set_size(f, 1000 + (uint64_t)i);
			lcfs_node_set_payload(f, name);
		}
		lcfs_node_set_xattr(f, "user.i", name, strlen(name));
		lcfs_node_add_child(i % 2 ? dir : root, f, name);
	}
	return root;
}

static void digest_of(struct lcfs_node_s *root, uint8_t *digest, int via_image)
{
	struct image img = { 0 };
	struct lcfs_write_options_s o = { LCFS_FORMAT_EROFS };
	o.max_version = 1;
	o.digest_out = digest;
	if (via_image) {
		o.file = &img;
		o.file_write_cb = collect;
	}
	if (lcfs_write_to(root, &o) != 0)
		memset(digest, 0, LCFS_DIGEST_SIZE);
	if (via_image) { /* what was written loads back to the same tree */
		struct lcfs_node_s *loaded = lcfs_load_node_from_image(img.data, img.size);
		uint8_t again[LCFS_DIGEST_SIZE];
		digest_of(loaded, again, 0);
		if (memcmp(again, digest, LCFS_DIGEST_SIZE) != 0)
			memset(digest, 0, LCFS_DIGEST_SIZE);
		lcfs_node_unref(loaded);
		free(img.data);
	}
}

static uint8_t expected[LCFS_DIGEST_SIZE];

static void *worker(void *arg)
{
	int *mismatches = arg;
	for (int r = 0; r < kRounds; r++) {
		struct lcfs_node_s *tree = make_tree(), *copy = lcfs_node_clone_deep(tree);
		uint8_t d[LCFS_DIGEST_SIZE];
		lcfs_node_unref(tree);
		digest_of(copy, d, r % 2);
		if (memcmp(d, expected, sizeof d) != 0)
			(*mismatches)++;
		lcfs_node_unref(copy);
	}
	return NULL;
}

/* --- one tree, its file nodes filled by lcfs_node_set_from_content on several threads */
enum { kContentFiles = 400, kFillers = 4 };
static char content_dir[] = "/tmp/capi-threads.XXXXXX";
static struct lcfs_node_s *content_nodes[kContentFiles];

static void *filler(void *arg)
{
	long first = (long)(intptr_t)arg;
	int dfd = open(content_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (long i = first; i < kContentFiles; i += kFillers) {
		char name[32];
		snprintf(name, sizeof name, "f%ld", i);
		if (lcfs_node_set_from_content(content_nodes[i], dfd, name,
					       LCFS_BUILD_COMPUTE_DIGEST | LCFS_BUILD_BY_DIGEST) != 0)
			lcfs_node_set_mode(content_nodes[i], 0); /* makes the write fail */
	}
	close(dfd);
	return NULL;
}

static void fill_tree(struct lcfs_node_s *root, int threads, uint8_t *digest)
{
	pthread_t t[kFillers];
	for (long i = 0; i < kContentFiles; i++) {
		char name[32];
		struct lcfs_node_s *f = lcfs_node_new();
		snprintf(name, sizeof name, "f%ld", i);
		lcfs_node_set_mode(f, S_IFREG | 0644);
		lcfs_node_set_size(f, 10 + 997 * (uint64_t)i);
		lcfs_node_add_child(root, f, name);
		content_nodes[i] = f;
	}
	if (threads) {
		for (long i = 0; i < kFillers; i++)
			CHECK(pthread_create(&t[i], NULL, filler, (void *)(intptr_t)i) == 0);
		for (long i = 0; i < kFillers; i++)
			CHECK(pthread_join(t[i], NULL) == 0);
	} else {
		for (long i = 0; i < kFillers; i++)
			filler((void *)(intptr_t)i);
	}
	digest_of(root, digest, 0);
}

static void test_fill_one_tree(void)
{
	uint8_t alone[LCFS_DIGEST_SIZE], together[LCFS_DIGEST_SIZE], zero[LCFS_DIGEST_SIZE] = { 0 };
	struct lcfs_node_s *a = lcfs_node_new(), *b = lcfs_node_new();
	char *data = malloc(10 + 997 * kContentFiles);
	CHECK(mkdtemp(content_dir) != NULL);
	for (long i = 0; i < kContentFiles; i++) {
		char path[64];
		size_t size = 10 + 997 * (size_t)i;
		int fd;
		snprintf(path, sizeof path, "%s/f%ld", content_dir, i);
		memset(data, (int)('a' + i % 26), size);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		CHECK(fd >= 0 && write(fd, data, size) == (ssize_t)size);
		close(fd);
	}
	lcfs_node_set_mode(a, S_IFDIR | 0755);
	lcfs_node_set_mode(b, S_IFDIR | 0755);
	fill_tree(a, 0, alone);
	fill_tree(b, 1, together);
	CHECK(memcmp(alone, zero, sizeof zero) != 0);
	CHECK_MSG(memcmp(alone, together, sizeof alone) == 0, "filled on %d threads: another image", kFillers);
	lcfs_node_unref(a);
	lcfs_node_unref(b);
	for (long i = 0; i < kContentFiles; i++) {
		char path[64];
		snprintf(path, sizeof path, "%s/f%ld", content_dir, i);
		unlink(path);
	}
	rmdir(content_dir);
	free(data);
}

int main(void)
{
	pthread_t threads[kThreads];
	int mismatches[kThreads] = { 0 };
	struct lcfs_node_s *tree = make_tree();

	digest_of(tree, expected, 1);
	lcfs_node_unref(tree);
	for (int i = 0; i < kThreads; i++)
		CHECK(pthread_create(&threads[i], NULL, worker, &mismatches[i]) == 0);
	for (int i = 0; i < kThreads; i++) {
		CHECK(pthread_join(threads[i], NULL) == 0);
		CHECK_MSG(mismatches[i] == 0, "thread %d: %d of %d trees gave another digest", i, mismatches[i], kRounds);
	}
	test_fill_one_tree();
	return report("threads");
}
