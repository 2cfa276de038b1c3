/* cio/log.h - leveled logging to stderr, in loguru's format.
 *
 *   cio_log_info("数据库连接池已启动");
 *   cio_log_warning("slow query: %.1f ms", ms);
 *
 * prints
 *
 *   2026-12-01 10:00:00.123 | INFO     | app:main:42 - 数据库连接池已启动
 *
 * (time, level, source file:function:line, message), coloured like loguru
 * when stderr is a terminal (NO_COLOR turns colours off). Each line is one
 * write(2), so lines from several threads never interleave.
 *
 * Levels are loguru's: TRACE 5, DEBUG 10, INFO 20, SUCCESS 25, WARNING 30,
 * ERROR 40, CRITICAL 50. Messages below the threshold cost one comparison:
 * the macros test the level before evaluating their arguments. The
 * threshold starts at INFO, or CIO_LOG_LEVEL from the environment (a name
 * or a number; OFF disables everything).
 *
 * Writing to stderr blocks the calling thread for as long as the write
 * takes (as Python's logging does): keep stderr on a terminal, a file or a
 * pipe that is read. Any thread; never suspends. Link with cio-http.
 */
#ifndef CIO_LOG_H
#define CIO_LOG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CIO_LOG_TRACE    5
#define CIO_LOG_DEBUG    10
#define CIO_LOG_INFO     20
#define CIO_LOG_SUCCESS  25
#define CIO_LOG_WARNING  30
#define CIO_LOG_ERROR    40
#define CIO_LOG_CRITICAL 50
#define CIO_LOG_OFF      1000

/* Set / get the threshold: messages at this level or above are written. */
CIO_API void cio_log_set_level(int level);
CIO_API int cio_log_get_level(void);
/* 1 if a message at `level` would be written. */
CIO_API int cio_log_enabled(int level);

/* Where lines go instead of stderr: fn(arg, line, len) is called with each
 * complete line (newline included), from whatever thread logs; NULL goes
 * back to stderr. For tests and for programs with their own log files. */
typedef void (*cio_log_sink)(void *arg, const char *line, size_t len);
CIO_API void cio_log_set_sink(cio_log_sink fn, void *arg);

/* Write one message (printf format) at `level`, attributed to file:func:
 * line (file may be a path: its base name without extension is shown).
 * Messages longer than 8 KiB are cut. Use the macros below. */
CIO_API void cio_log_write(int level, const char *file, const char *func, int line, const char *fmt,
                           ...) __attribute__((format(printf, 5, 6)));

#define CIO_LOG_AT(level, ...)                                                                     \
  do {                                                                                             \
    if (cio_log_enabled(level)) cio_log_write(level, __FILE__, __func__, __LINE__, __VA_ARGS__);   \
  } while (0)

#define cio_log_trace(...)    CIO_LOG_AT(CIO_LOG_TRACE, __VA_ARGS__)
#define cio_log_debug(...)    CIO_LOG_AT(CIO_LOG_DEBUG, __VA_ARGS__)
#define cio_log_info(...)     CIO_LOG_AT(CIO_LOG_INFO, __VA_ARGS__)
#define cio_log_success(...)  CIO_LOG_AT(CIO_LOG_SUCCESS, __VA_ARGS__)
#define cio_log_warning(...)  CIO_LOG_AT(CIO_LOG_WARNING, __VA_ARGS__)
#define cio_log_error(...)    CIO_LOG_AT(CIO_LOG_ERROR, __VA_ARGS__)
#define cio_log_critical(...) CIO_LOG_AT(CIO_LOG_CRITICAL, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
