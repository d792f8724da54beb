/*
 * main.c -- the `tenure` command: global options, then dispatch to one
 * subcommand from commands.def.  Global options (--db, --format, --quiet)
 * may appear anywhere on the line; they are taken out before the
 * subcommand parses the rest.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct command {
	const char *name;
	cli_fn fn;
	const char *summary;
} commands[] = {
#define CMD(name, fn, summary) {#name, fn, summary},
#include "commands.def"
#undef CMD
};

static void usage(FILE *fp)
{
	fprintf(fp, "Tenure %s -- customer-retention engine: churn, survival, value, risk, feedback, actions\n\n"
		    "usage: tenure [--db FILE] [--format table|csv|json] [--quiet] COMMAND [OPTIONS]\n\n"
		    "Commands:\n",
		tn_version());
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(fp, "  %-10s %s\n", "help", "this list; `tenure help COMMAND` or `tenure COMMAND --help` for one command");
	fprintf(fp, "\nGlobal options:\n"
		    "  --db FILE        the store (SQLite file); default $TENURE_DB or tenure.db\n"
		    "  --format FMT     table (default), csv or json, for every command that prints data\n"
		    "  --quiet          no progress messages on stderr (import: no output on success)\n"
		    "  --version        print the version\n\n"
		    "Documentation: README.md and docs/ in the source tree.\n");
}

/*
 * Run at exit (atexit): whatever a command printed must have reached its
 * destination.  A full disk, a closed pipe reader's file or /dev/full shows
 * up only when stdout is flushed, so flush and close it here and turn a
 * failure into exit status 1 with a message, as coreutils' close_stdout does.
 */
static void close_stdout(void)
{
	int failed = ferror(stdout);
	errno = 0;
	if (fclose(stdout) != 0)
		failed = 1;
	if (failed) {
		int e = errno;
		fprintf(stderr, "tenure: cannot write to standard output%s%s\n", e ? ": " : "", e ? strerror(e) : "");
		fflush(stderr);
		_exit(1);
	}
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* A PostgreSQL URL's password (postgresql://user:PASSWORD@host/db) goes to
 * libpq through PGPASSWORD and leaves the URL, so that no message -- and
 * commands print the --db they were given -- ever shows it. */
static const char *hide_password(const char *url)
{
	static char buf[2048];
	const char *p = strstr(url, "://");
	if (!p || !(strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) ||
	    strlen(url) >= sizeof buf)
		return url;
	p += 3;
	size_t auth = strcspn(p, "/?");
	const char *at = memchr(p, '@', auth);
	const char *colon = at ? memchr(p, ':', (size_t)(at - p)) : NULL;
	if (!colon)
		return url;
	char pw[512];
	size_t k = 0;
	for (const char *c = colon + 1; c < at && k + 1 < sizeof pw; c++) {
		unsigned v;
		if (*c == '%' && c + 2 < at && sscanf(c + 1, "%2x", &v) == 1) {
			pw[k++] = (char)v;
			c += 2;
		} else {
			pw[k++] = *c;
		}
	}
	pw[k] = '\0';
	setenv("PGPASSWORD", pw, 1);
	snprintf(buf, sizeof buf, "%.*s%s", (int)(colon - url), url, at);
	return buf;
}

int main(int argc, char **argv)
{
	cli_ctx ctx = {.db_path = getenv("TENURE_DB"), .format = OUT_TABLE, .prog = "tenure"};
	atexit(close_stdout);
	if (!ctx.db_path || !*ctx.db_path)
		ctx.db_path = "tenure.db";

	/* Take the global options out of argv, wherever they are (but not after "--"). */
	int n = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = NULL;
		if (i > 0 && strcmp(a, "--") == 0) {
			while (i < argc)
				argv[n++] = argv[i++];
			break;
		}
		if (i > 0 && (strcmp(a, "--db") == 0 || strcmp(a, "--format") == 0)) {
			if (i + 1 >= argc) {
				fprintf(stderr, "tenure: %s needs a value\n", a);
				return 2;
			}
			v = argv[++i];
		} else if (i > 0 && (strncmp(a, "--db=", 5) == 0 || strncmp(a, "--format=", 9) == 0)) {
			v = strchr(a, '=') + 1;
		} else if (i > 0 && strcmp(a, "--quiet") == 0) {
			ctx.quiet = 1;
			continue;
		} else {
			argv[n++] = argv[i];
			continue;
		}
		if (a[2] == 'd') {
			ctx.db_path = v;
			ctx.db_given = 1;
		} else if (strcmp(v, "table") == 0) {
			ctx.format = OUT_TABLE;
		} else if (strcmp(v, "csv") == 0) {
			ctx.format = OUT_CSV;
		} else if (strcmp(v, "json") == 0) {
			ctx.format = OUT_JSON;
		} else {
			fprintf(stderr, "tenure: --format: expected table, csv or json, found \"%s\"\n", v);
			return 2;
		}
	}
	argc = n;
	argv[argc] = NULL;
	ctx.db_path = hide_password(ctx.db_path);

	if (argc < 2 || cli_is_help(argv[1])) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("tenure %s\n", tn_version());
		return 0;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		const struct command *c = find(argv[2]);
		if (!c) {
			fprintf(stderr, "tenure: no command \"%s\"; see `tenure help`\n", argv[2]);
			return 2;
		}
		char help[] = "--help";
		char *hargv[] = {argv[2], help, NULL};
		return c->fn(&ctx, 2, hargv);
	}
	const struct command *c = find(argv[1]);
	if (!c) {
		fprintf(stderr, "tenure: no command \"%s\"; see `tenure help`\n", argv[1]);
		return 2;
	}
	if (cli_no_data(&ctx, argc - 1, argv + 1) == CLI_NO_DATA)
		return 0;
	int st = c->fn(&ctx, argc - 1, argv + 1);
	return cli_out_failed() && st == 0 ? 1 : st;
}
