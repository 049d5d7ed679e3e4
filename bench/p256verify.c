/*
 * p256verify.c -- ECDSA P-256 signature checks per second with nettle
 * (what Debian's libunbound validates with) and with OpenSSL (what
 * Debian's unbound daemon validates with), one thread, the same key,
 * digest and signature: the validation cost of one DNSSEC answer signed
 * with algorithm 13, library against library.
 *
 * Build and run (bench/README.md, "The miss path"):
 *   cc -O2 -o p256verify bench/p256verify.c -lhogweed -lnettle -lgmp -lcrypto
 *   ./p256verify [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmp.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "p256verify: %s\n", what);
	exit(1);
}

/* Checks per second of check(arg) over about secs seconds; every check
 * must succeed. */
static double
rate(int (*check)(void *), void *arg, double secs)
{
	double t0 = now(), t;
	unsigned long n = 0;

	do {
		for (int i = 0; i < 100; i++)
			if (!check(arg))
				die("a good signature did not verify");
		n += 100;
		t = now() - t0;
	} while (t < secs);
	return (double)n / t;
}

struct ossl { EC_KEY *key; ECDSA_SIG *sig; unsigned char md[32]; };
struct ntl { struct ecc_point pub; struct dsa_signature sig;
	unsigned char md[32]; };

static int
check_ossl(void *arg)
{
	struct ossl *o = arg;

	return ECDSA_do_verify(o->md, 32, o->sig, o->key) == 1;
}

static int
check_nettle(void *arg)
{
	struct ntl *n = arg;

	return ecdsa_verify(&n->pub, 32, n->md, &n->sig);
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3.0, ro, rn;
	struct ossl o;
	struct ntl n;
	const BIGNUM *r, *s, *x, *y;
	BIGNUM *bx = BN_new(), *by = BN_new();
	mpz_t mx, my;
	char *hx, *hy, *hr, *hs;

	/* Deprecated in OpenSSL 3 but still what libunbound's OpenSSL
	 * build calls for algorithm 13; the EVP path costs the same. */
	if ((o.key = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1)) ==
	    NULL || EC_KEY_generate_key(o.key) != 1 ||
	    RAND_bytes(o.md, 32) != 1 ||
	    (o.sig = ECDSA_do_sign(o.md, 32, o.key)) == NULL)
		die("OpenSSL: no key or signature");
	ECDSA_SIG_get0(o.sig, &r, &s);
	if (EC_POINT_get_affine_coordinates(EC_KEY_get0_group(o.key),
	    EC_KEY_get0_public_key(o.key), bx, by, NULL) != 1)
		die("OpenSSL: no public point");
	x = bx;
	y = by;
	hx = BN_bn2hex(x);
	hy = BN_bn2hex(y);
	hr = BN_bn2hex(r);
	hs = BN_bn2hex(s);
	memcpy(n.md, o.md, 32);
	mpz_init_set_str(mx, hx, 16);
	mpz_init_set_str(my, hy, 16);
	ecc_point_init(&n.pub, nettle_get_secp_256r1());
	if (!ecc_point_set(&n.pub, mx, my))
		die("nettle: the public point is not on the curve");
	dsa_signature_init(&n.sig);
	mpz_set_str(n.sig.r, hr, 16);
	mpz_set_str(n.sig.s, hs, 16);

	rn = rate(check_nettle, &n, secs);
	ro = rate(check_ossl, &o, secs);
	printf("nettle %s: %.0f verifications/s, %.1f us each\n",
	    "(libhogweed)", rn, 1e6 / rn);
	printf("OpenSSL %s: %.0f verifications/s, %.1f us each\n",
	    OpenSSL_version(OPENSSL_VERSION), ro, 1e6 / ro);
	printf("nettle / OpenSSL time: %.2f\n", ro / rn);
	return 0;
}
