/* "A profile is data": a source file that grades or configures by the
 * profile row never names a profile key nor looks a profile up by name.
 * Shared by the graders' unit tests. Needs check.h first. */
#ifndef DTP_PROFILE_DATA_H
#define DTP_PROFILE_DATA_H

#include <stdio.h>
#include <string.h>

#include "dtp/dtp.h"

/* 0 when the source at path names no profile key ("bcp195", ...) and never
 * calls dtp_profile_find; else the check fails, naming what it found. */
static int source_names_no_profile(const char *path)
{
    FILE *f = fopen(path, "r");
    CHECK(f);
    static char src[1 << 17];
    size_t len = fread(src, 1, sizeof src - 1, f);
    fclose(f);
    CHECK(len > 1000 && len < sizeof src - 1);
    src[len] = '\0';
    char quoted[80];
    for (size_t i = 0; i < dtp_profile_count(); i++) {
        snprintf(quoted, sizeof quoted, "\"%s\"", dtp_profile_at(i)->key);
        if (strstr(src, quoted))
            fprintf(stderr, "%s names profile %s\n", path, quoted);
        CHECK(!strstr(src, quoted));
    }
    CHECK(!strstr(src, "dtp_profile_find"));
    return 0;
}

#endif
