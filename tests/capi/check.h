/* A minimal test harness for the C API tests: CHECK counts, prints failures with their line,
 * and report() prints the closing "N passed, N failed" line ctest shows. */
#ifndef CFS_CHECK_H
#define CFS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

static int checks_passed, checks_failed;

#define CHECK_MSG(cond, ...)                                                                  \
	do {                                                                                  \
		if (cond) {                                                                   \
			checks_passed++;                                                      \
		} else {                                                                      \
			checks_failed++;                                                      \
			fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                         \
			fputc('\n', stderr);                                                  \
		}                                                                             \
	} while (0)
#define CHECK(cond) CHECK_MSG(cond, "%s", "")

/* Lowercase hex of n bytes, in a static buffer (for messages and comparisons). */
static inline const char *hex(const unsigned char *b, size_t n)
{
	static char out[2 * 64 + 1];
	static const char digits[] = "0123456789abcdef";
	size_t i;
	for (i = 0; i < n && i < 64; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * i] = '\0';
	return out;
}

/* An image collected in memory through a write callback. */
struct image {
	unsigned char *data;
	size_t size;
};

static inline ssize_t collect(void *file, void *buf, size_t count)
{
	struct image *img = file;
	unsigned char *grown = realloc(img->data, img->size + count);
	if (grown == NULL)
		return -1;
	img->data = grown;
	for (size_t i = 0; i < count; i++)
		img->data[img->size + i] = ((unsigned char *)buf)[i];
	img->size += count;
	return (ssize_t)count;
}

static inline int report(const char *what)
{
	printf("%s: %d passed, %d failed\n", what, checks_passed, checks_failed);
	return checks_failed == 0 ? 0 : 1;
}

#endif
