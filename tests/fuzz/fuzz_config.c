/*
 * fuzz_config.c -- libFuzzer target: any bytes as the YAML configuration.
 *
 * config_parse() reads the input (not NUL-terminated: libFuzzer's buffer
 * ends exactly at its size) with an error callback that collects nothing;
 * the result, if any, is freed with config_free().  Warnings (ignored
 * Stubby keys) are silenced by the log level.
 */
#include "config.h"

#include <stdint.h>

#include "dsconfig.h"
#include "fuzz.h"
#include "log.h"

static void
ignore_error(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ds_log_set_level(DS_LOG_ERR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_config *cfg;

	cfg = config_parse((const char *)data, size, "fuzz.yml",
	    ignore_error, NULL);
	config_free(cfg);
	return 0;
}
