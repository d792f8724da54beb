/*
 * store_change.c -- has anything been committed to the store since I last
 * looked?  Asked by the server's read cache (src/server/readcache.c) before
 * every GET /v1/customers/{id}, so it must cost nanoseconds, not the
 * microseconds of a read transaction (PRAGMA data_version takes the file and
 * WAL-index locks with fcntl and an fstat: a quarter of a cached read).
 *
 * A store in WAL mode keeps its WAL index in the "-shm" file, which every
 * connection of every process maps.  Its header (https://www.sqlite.org/
 * walformat.html, "2.5.1 The WAL-Index Header") is written twice, copy 1
 * then copy 0, at each commit before the COMMIT returns; it holds iChange, a
 * counter incremented at each transaction, the last frame (mxFrame) and the
 * running checksum of the log.  A reader copies copy 0 then copy 1, with a
 * barrier between, as SQLite's own readers do: when they differ a commit is
 * under way and the answer is "changed".  Mapped read-only: nothing here
 * can disturb SQLite.
 */
#include "tenure/store.h"
#include "base/alloc.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The WAL-index header, as SQLite writes it (native byte order). */
typedef struct wal_hdr {
	uint32_t version;      /* 3007000 */
	uint32_t unused;
	uint32_t change;       /* iChange: incremented at each transaction */
	uint8_t is_init;
	uint8_t big_end_cksum;
	uint16_t page_size;
	uint32_t max_frame;    /* the last valid frame of the log */
	uint32_t pages;        /* the database's size in pages */
	uint32_t frame_cksum[2];
	uint32_t salt[2];
	uint32_t cksum[2];
} wal_hdr;
_Static_assert(sizeof(wal_hdr) == 48, "the WAL-index header is 48 bytes");

struct tn_store_watch {
	int fd;
	const volatile unsigned char *map; /* the first 2 * 48 bytes of the -shm file */
	size_t maplen;
};

int tn_store_watch_open(const char *db_path, tn_store_watch **out, tn_error *err)
{
	*out = NULL;
	size_t n = strlen(db_path) + 5;
	char *shm = tn_malloc(n);
	if (!shm)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	snprintf(shm, n, "%s-shm", db_path);
	int fd = open(shm, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < (off_t)(2 * sizeof(wal_hdr))) {
		if (fd >= 0)
			close(fd);
		int rc = tn_error_set(err, TN_ERR_IO, "%s: no WAL index to watch", shm);
		free(shm);
		return rc;
	}
	free(shm);
	long page = sysconf(_SC_PAGESIZE);
	size_t len = page > 0 ? (size_t)page : 4096;
	void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		close(fd);
		return tn_error_set(err, TN_ERR_IO, "cannot map the store's WAL index");
	}
	tn_store_watch *w = tn_calloc(1, sizeof *w);
	if (!w) {
		munmap(map, len);
		close(fd);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	w->fd = fd;
	w->map = map;
	w->maplen = len;
	*out = w;
	return TN_OK;
}

int tn_store_watch_read(tn_store_watch *w, tn_store_mark *mark)
{
	wal_hdr h0, h1;
	const volatile unsigned char *p = w->map;
	unsigned char b0[sizeof h0], b1[sizeof h1];
	for (size_t i = 0; i < sizeof b0; i++)
		b0[i] = p[i];
	atomic_thread_fence(memory_order_seq_cst);
	for (size_t i = 0; i < sizeof b1; i++)
		b1[i] = p[sizeof h0 + i];
	memcpy(&h0, b0, sizeof h0);
	memcpy(&h1, b1, sizeof h1);
	if (memcmp(&h0, &h1, sizeof h0) != 0 || !h0.is_init)
		return 0; /* a commit under way, or an index not built yet */
	/* the whole header: the counter, the last frame, the salts and the
	 * log's running checksum all move with a commit */
	_Static_assert(sizeof mark->b == sizeof h0, "a mark is one header");
	memcpy(mark->b, b0, sizeof mark->b);
	return 1;
}

void tn_store_watch_close(tn_store_watch *w)
{
	if (!w)
		return;
	munmap((void *)w->map, w->maplen);
	close(w->fd);
	free(w);
}
