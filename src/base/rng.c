/*
 * rng.c -- SplitMix64 and xoshiro256** (see rng.h for the sources).
 */
#include "base/rng.h"

#include <assert.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>

/* tn_random_pin's stream (pinned == 0: the OS's bytes) */
static pthread_mutex_t pin_mu = PTHREAD_MUTEX_INITIALIZER;
static int pinned;
static uint64_t pin_state;

int tn_random_bytes(void *buf, size_t n)
{
	pthread_mutex_lock(&pin_mu);
	int p = pinned;
	if (p) {
		unsigned char *b = buf;
		for (size_t i = 0; i < n; i += 8) {
			uint64_t x = tn_rng_splitmix64(&pin_state);
			memcpy(b + i, &x, n - i < 8 ? n - i : 8);
		}
	}
	pthread_mutex_unlock(&pin_mu);
	if (p)
		return 0;
	return n > (size_t)INT32_MAX || RAND_bytes(buf, (int)n) != 1 ? -1 : 0;
}

void tn_random_pin(uint64_t seed)
{
	pthread_mutex_lock(&pin_mu);
	pinned = 1;
	pin_state = seed;
	pthread_mutex_unlock(&pin_mu);
}

uint64_t tn_rng_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

void tn_rng_seed(tn_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed * 0x100000001B3ull ^ (stream + 0x632BE59BD9B4E019ull);
	for (int i = 0; i < 4; i++)
		r->s[i] = tn_rng_splitmix64(&x);
	/* xoshiro's one bad state is all zeros; SplitMix64 outputs are a
	 * bijection of distinct inputs, so four of them are never all zero */
	assert(r->s[0] | r->s[1] | r->s[2] | r->s[3]);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t tn_rng_next(tn_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double tn_rng_unif(tn_rng *r) { return ((double)(tn_rng_next(r) >> 11) + 0.5) * 0x1.0p-53; }

double tn_rng_u01(uint64_t x) { return (double)(x >> 11) * 0x1.0p-53; }
