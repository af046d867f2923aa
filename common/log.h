/*
 * log.h: leveled logging to stderr, as text or JSON lines.
 *
 * Every line carries the binary name and the run id. Messages pass through
 * the secret masker (log_mask_secrets) before they are written, so a token
 * that slips into a URL or header never reaches a log file. Data output never
 * goes to the log.
 */
#ifndef CL_LOG_H
#define CL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum LogLevel
{
	LOG_TRACE = 0,
	LOG_DEBUG,
	LOG_SQL,
	LOG_NOTICE,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
	LOG_FATAL
} LogLevel;

void log_init(const char *program, const char *run_id);
void log_set_level(LogLevel level);
LogLevel log_get_level(void);
void log_use_json(bool json);
void log_set_fp(FILE *fp);     /* default stderr; for tests */

/* log_register_secret remembers a value (token, password) that must never
 * be printed; the value is copied. Values shorter than 4 bytes are ignored
 * (they would mask ordinary words). */
void log_register_secret(const char *value);
void log_forget_secrets(void);

/*
 * log_mask_secrets copies src into dst (size dstsize, always terminated),
 * replacing registered secrets and the values of well-known secret carriers:
 * "Authorization: <scheme> <value>", URL query parameters and key=value
 * pairs named token, access_token, refresh_token, api_key, apikey, key,
 * password, client_secret, developer_token, and user:password@ in URLs.
 */
void log_mask_secrets(const char *src, char *dst, size_t dstsize);

void log_log(LogLevel level, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define log_trace(...)  log_log(LOG_TRACE, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...)  log_log(LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)
#define log_sql(...)    log_log(LOG_SQL, __FILE__, __LINE__, __VA_ARGS__)
#define log_notice(...) log_log(LOG_NOTICE, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...)   log_log(LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...)   log_log(LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define log_error(...)  log_log(LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define log_fatal(...)  log_log(LOG_FATAL, __FILE__, __LINE__, __VA_ARGS__)

#endif
