/* A scratch directory for one unit test run: scratch("name") is a path in
 * it (made on first use under $TMPDIR or /tmp, named after
 * SCRATCH_PREFIX), cleanup() removes it. Shared by the tests that
 * write files (ticket keys, audit spools). */
#ifndef DTP_TEST_SCRATCH_H
#define DTP_TEST_SCRATCH_H

#include <stdio.h>
#include <stdlib.h>

#ifndef SCRATCH_PREFIX
#define SCRATCH_PREFIX "dtp-test"
#endif

static char dir[512]; /* this run's scratch directory */

static inline const char *scratch(const char *name)
{
    static char bufs[8][700];
    static int next;
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/" SCRATCH_PREFIX ".XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

static inline void cleanup(void)
{
    if (!dir[0])
        return;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    dir[0] = '\0';
}

#endif
