/*
 * dotsec-anchor.c -- the root trust anchor state of dotsecd, by hand:
 * show what the state file holds, or bootstrap it from IANA's
 * root-anchors.xml and its signature.
 *
 * Exit codes: 0 done, 1 usage, 2 a signature, XML or state file that does
 * not verify or parse, 3 a file that cannot be read or written.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anchorfile.h"
#include "rfc7958.h"

#ifndef DS_STATEDIR
#define DS_STATEDIR	"/var/lib/dotsec"
#endif
#ifndef DS_DATADIR
#define DS_DATADIR	"/usr/local/share/dotsec"
#endif
#define STATE_FILE	"root.anchor"
#define DEFAULT_CA	DS_DATADIR "/icannbundle.pem"
#define FILE_MAX	(1024 * 1024)

#define EXIT_OK		0
#define EXIT_USAGE	1
#define EXIT_VERIFY	2
#define EXIT_IO		3

static void usage(FILE *f);
static char *state_path(const char *dir, const char *file);
static int read_file(const char *path, char **out, size_t *len);
static int cmd_show(const char *path);
static int cmd_bootstrap(const char *path, const char *xml_file,
    const char *sig_file, const char *ca_file, const char *email);

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: dotsec-anchor show [-s STATE_DIR | -f FILE]\n"
	    "       dotsec-anchor bootstrap --xml FILE --sig FILE "
	    "[--ca FILE]\n"
	    "                     [--email ADDRESS] "
	    "[-s STATE_DIR | -f FILE]\n"
	    "       dotsec-anchor -h\n"
	    "  show        list the keys of the trust anchor state file\n"
	    "  bootstrap   verify root-anchors.xml (RFC 7958) with its "
	    "signature and\n"
	    "              write its DS records as a new state file\n"
	    "  -s DIR      state directory (default %s); the file is "
	    "DIR/%s\n"
	    "  -f FILE     the state file itself\n"
	    "  --xml FILE  root-anchors.xml\n"
	    "  --sig FILE  its detached signature, root-anchors.p7s\n"
	    "  --ca FILE   the CA to verify it with (default %s)\n"
	    "  --email A   the signer's e-mail address (default %s)\n"
	    "exit status: 0 done, 1 usage, 2 verification or parse failure,"
	    " 3 I/O error\n",
	    DS_STATEDIR, STATE_FILE, DEFAULT_CA, RFC7958_EMAIL_DEFAULT);
}

/* dir/root.anchor, or file; malloc'd, NULL on allocation failure. */
static char *
state_path(const char *dir, const char *file)
{
	size_t len;
	char *p;

	if (file != NULL)
		return strdup(file);
	if (dir == NULL)
		dir = DS_STATEDIR;
	len = strlen(dir) + sizeof(STATE_FILE) + 1;
	p = malloc(len);
	if (p != NULL)
		(void)snprintf(p, len, "%s/%s", dir, STATE_FILE);
	return p;
}

/* The whole file (at most FILE_MAX bytes), NUL-terminated, malloc'd.
 * Returns 0, or -1 after printing why. */
static int
read_file(const char *path, char **out, size_t *len)
{
	char *buf;
	size_t n = 0;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "dotsec-anchor: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	buf = malloc(FILE_MAX + 1);
	if (buf == NULL) {
		fprintf(stderr, "dotsec-anchor: out of memory\n");
		(void)close(fd);
		return -1;
	}
	for (;;) {
		r = read(fd, buf + n, FILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "dotsec-anchor: %s: %s\n", path,
			    strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > FILE_MAX) {
			fprintf(stderr, "dotsec-anchor: %s: larger than %d "
			    "bytes\n", path, FILE_MAX);
			goto fail;
		}
	}
	(void)close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
fail:
	free(buf);
	(void)close(fd);
	return -1;
}

/* A time of the state file in UTC; "-" for 0 (never). */
static int
cmd_show(const char *path)
{
	char err[512];
	char *text;
	size_t len;
	int rc;

	if (read_file(path, &text, &len) != 0)
		return EXIT_IO;
	rc = anchorfile_show(text, len, path, stdout, err, sizeof(err));
	free(text);
	if (rc != 0) {
		fprintf(stderr, "dotsec-anchor: %s\n", err);
		return EXIT_VERIFY;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "dotsec-anchor: standard output: %s\n",
		    strerror(errno));
		return EXIT_IO;
	}
	return EXIT_OK;
}

static int
cmd_bootstrap(const char *path, const char *xml_file, const char *sig_file,
    const char *ca_file, const char *email)
{
	struct rfc7958_ds *ds = NULL;
	struct anchor_file af;
	char err[1024], when[64];
	char *xml = NULL, *sig = NULL, *zone = NULL, *out = NULL;
	size_t xlen, slen, n = 0, olen;
	time_t now = time(NULL);
	struct tm tm;
	FILE *ca;
	int rc = EXIT_IO;

	if (read_file(xml_file, &xml, &xlen) != 0 ||
	    read_file(sig_file, &sig, &slen) != 0)
		goto out;
	/* A CA file that cannot be read is an I/O error, not a failed
	 * verification. */
	ca = fopen(ca_file, "r");
	if (ca == NULL) {
		fprintf(stderr, "dotsec-anchor: %s: %s\n", ca_file,
		    strerror(errno));
		goto out;
	}
	(void)fclose(ca);
	if (rfc7958_verify(xml, xlen, sig, slen, ca_file, email, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "dotsec-anchor: %s: %s\n", sig_file, err);
		rc = EXIT_VERIFY;
		goto out;
	}
	if (rfc7958_parse(xml, xlen, now, &ds, &n, err, sizeof(err)) != 0) {
		fprintf(stderr, "dotsec-anchor: %s: %s\n", xml_file, err);
		rc = EXIT_VERIFY;
		goto out;
	}
	zone = rfc7958_to_zone(ds, n);
	olen = (zone == NULL ? 0 : strlen(zone)) + 512;
	out = malloc(olen);
	if (zone == NULL || out == NULL) {
		fprintf(stderr, "dotsec-anchor: out of memory\n");
		goto out;
	}
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(when, sizeof(when), "%lld", (long long)now);
	(void)snprintf(out, olen,
	    "; root trust anchor seed from root-anchors.xml (RFC 7958),\n"
	    "; written by dotsec-anchor at %s.  The RFC 5011 probes of\n"
	    "; dotsecd replace this file in libunbound's autotrust format.\n"
	    "%s", when, zone);
	/* What is written must read back as the anchors it means. */
	if (anchorfile_parse(out, strlen(out), path, &af, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "dotsec-anchor: the records of %s do not "
		    "parse: %s\n", xml_file, err);
		rc = EXIT_VERIFY;
		goto out;
	}
	anchorfile_free(&af);
	if (anchorfile_write_atomic(path, out, strlen(out), err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "dotsec-anchor: %s\n", err);
		goto out;
	}
	printf("%s: %zu DS record%s from %s\n%s", path, n, n == 1 ? "" : "s",
	    xml_file, zone);
	rc = EXIT_OK;
out:
	free(xml);
	free(sig);
	free(ds);
	free(zone);
	free(out);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "xml", required_argument, NULL, 'x' },
		{ "sig", required_argument, NULL, 'g' },
		{ "ca", required_argument, NULL, 'a' },
		{ "email", required_argument, NULL, 'e' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd, *dir = NULL, *file = NULL, *xml = NULL, *sig = NULL;
	const char *ca = DEFAULT_CA, *email = RFC7958_EMAIL_DEFAULT;
	char *path;
	int ch, rc, bootstrap;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "show") == 0)
		bootstrap = 0;
	else if (strcmp(cmd, "bootstrap") == 0)
		bootstrap = 1;
	else {
		fprintf(stderr, "dotsec-anchor: unknown command '%s'\n", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	/* The command's options: argv[1] plays the program name. */
	while ((ch = getopt_long(argc - 1, argv + 1, "hs:f:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 's':
			dir = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		case 'x':
		case 'g':
		case 'a':
		case 'e':
			if (!bootstrap) {
				fprintf(stderr, "dotsec-anchor: show takes "
				    "only -s or -f\n");
				return EXIT_USAGE;
			}
			if (ch == 'x')
				xml = optarg;
			else if (ch == 'g')
				sig = optarg;
			else if (ch == 'a')
				ca = optarg;
			else
				email = optarg;
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "dotsec-anchor: unexpected argument '%s'\n",
		    argv[optind + 1]);
		return EXIT_USAGE;
	}
	if (dir != NULL && file != NULL) {
		fprintf(stderr, "dotsec-anchor: -s and -f exclude each "
		    "other\n");
		return EXIT_USAGE;
	}
	if (bootstrap && (xml == NULL || sig == NULL)) {
		fprintf(stderr, "dotsec-anchor: bootstrap needs --xml and "
		    "--sig\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	path = state_path(dir, file);
	if (path == NULL) {
		fprintf(stderr, "dotsec-anchor: out of memory\n");
		return EXIT_IO;
	}
	if (bootstrap)
		rc = cmd_bootstrap(path, xml, sig, ca, email);
	else
		rc = cmd_show(path);
	free(path);
	return rc;
}
