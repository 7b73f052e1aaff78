/* Independent trees on different threads, as upstream documents (mkcomposefs also fills the
 * nodes of one tree from worker threads): every thread builds, clones, writes, loads and
 * drops its own trees, and every digest equals the one computed alone. */
#include <libcomposefs/lcfs-writer.h>

#include <pthread.h>
#include <string.h>

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
	return report("threads");
}
