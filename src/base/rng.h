/*
 * rng.h -- internal: the one random-number generator of libtenure.
 *
 * Two layers, both from Blackman & Vigna, "Scrambled linear pseudorandom
 * number generators" (ACM TOMS 2021) and https://prng.di.unimi.it/:
 *   - tn_rng_splitmix64: SplitMix64 (Steele, Lea & Flood 2014), a one-word
 *     generator; used to seed, to draw a few numbers from a seed (fold
 *     assignment, control groups) and as a stateless mix of a seed and a key;
 *   - tn_rng: xoshiro256** seeded by SplitMix64, for long streams (the demo).
 * Streams are fixed by the seed: the same seed gives the same numbers on every
 * platform, so seeded analyses and the demo data are reproducible.
 * Not part of the public API.
 */
#ifndef TN_RNG_H
#define TN_RNG_H

#include <stddef.h>
#include <stdint.h>

/* Advance the SplitMix64 state *X and return the next 64-bit output. */
uint64_t tn_rng_splitmix64(uint64_t *x);

/* A xoshiro256** state; seed it with tn_rng_seed before use. */
typedef struct tn_rng {
	uint64_t s[4];
} tn_rng;

/* Seed R from SEED and a STREAM number: different streams of one seed are
 * independent for practical purposes. */
void tn_rng_seed(tn_rng *r, uint64_t seed, uint64_t stream);
/* The next 64 random bits. */
uint64_t tn_rng_next(tn_rng *r);
/* Uniform in the open interval (0, 1): never 0, so log(u) is finite. */
double tn_rng_unif(tn_rng *r);
/* Uniform in [0, 1) from 64 random bits X (53 bits of it). */
double tn_rng_u01(uint64_t x);

/* N cryptographically random bytes into BUF (OpenSSL's RAND_bytes, seeded
 * by the kernel): API keys, session tokens, CSRF tokens, message ids, the
 * seeds of the server's samplers.  0, or -1 when none could be had (the
 * caller says what it needed them for). */
int tn_random_bytes(void *buf, size_t n);
/* Fuzz targets only (fuzz/fuzz_server.h): tn_random_bytes gives the
 * SplitMix64 stream of SEED instead, so a run's keys and tokens, and what
 * libFuzzer learns from comparing them, are the same in every run.  Never
 * called by the product: its keys stay from the OS. */
void tn_random_pin(uint64_t seed);

#endif
