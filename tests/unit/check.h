/* The whole test framework: CHECK, CHECK_REASON, a case table, and a main
 * that runs the case named in argv[1] (CTest registers each by name). */
#ifndef DTP_CHECK_H
#define DTP_CHECK_H

#include <stdio.h>
#include <string.h>

#include "dtp/dtp.h"

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                                  \
            return 1;                                                                                                  \
        }                                                                                                              \
    } while (0)

static inline const char *check_reason_name(int code)
{
    const struct dtp_reason *r = dtp_reason_by_code(code);
    return code == DTP_OK ? "OK" : r ? r->name : "(no row)";
}

/* Which reason, not just that one happened. */
#define CHECK_REASON(expected, actual, detail)                                                                         \
    do {                                                                                                               \
        int e_ = (expected), a_ = (actual);                                                                            \
        if (e_ != a_) {                                                                                                \
            fprintf(stderr, "%s:%d: expected reason %d %s, got %d %s (%s)\n", __FILE__, __LINE__, e_,                  \
                    check_reason_name(e_), a_, check_reason_name(a_), (detail));                                       \
            return 1;                                                                                                  \
        }                                                                                                              \
    } while (0)

struct check_case {
    const char *name;
    int (*fn)(void);
};

#define CASE(fn) {#fn, fn}

/* argv[1] = case name, or "--check-registered NAME..." to verify that every
 * case of the table is registered with CTest. Remaining args are kept in
 * check_argv for cases that need a fixture path. */
static int check_argc;
static char **check_argv;

static inline int check_main(const struct check_case *cases, size_t n, int argc, char **argv)
{
    check_argc = argc;
    check_argv = argv;
    if (argc >= 2 && strcmp(argv[1], "--check-registered") == 0) {
        int missing = 0;
        for (size_t i = 0; i < n; i++) {
            int found = 0;
            for (int a = 2; a < argc; a++)
                found |= strcmp(argv[a], cases[i].name) == 0;
            if (!found) {
                fprintf(stderr, "case %s is not registered in tests/CMakeLists.txt\n", cases[i].name);
                missing = 1;
            }
        }
        return missing;
    }
    for (size_t i = 0; argc >= 2 && i < n; i++)
        if (strcmp(argv[1], cases[i].name) == 0) {
            int rc = cases[i].fn();
            printf("%s: %s\n", cases[i].name, rc ? "FAILED" : "passed");
            return rc;
        }
    fprintf(stderr, "usage: %s CASE [ARGS]; cases:", argv[0]);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, " %s", cases[i].name);
    fprintf(stderr, "\n");
    return 2;
}

#define CHECK_MAIN(table) \
    int main(int argc, char **argv) { return check_main(table, sizeof table / sizeof table[0], argc, argv); }

#endif
