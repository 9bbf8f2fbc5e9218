/*
 * libFuzzer harness for the library's small parsers of local, operator-
 * supplied text: dtp_read_password (+pw/--password-source: pass:, env:,
 * file:), dtp_profile_find / dtp_retired_profile_find / dtp_reason_by_name
 * (--profile and friends), and dtp_error_format (every message the apps
 * print).
 *
 * Input: one mode byte, then text.
 *   mode & 7 = 0  spec "pass:" + text
 *              1  spec "env:DTP_FUZZ_PASSWORD", the variable set to text
 *              2  spec "file:" + a temporary file holding text
 *              3  spec = text itself (a "file:" spec is turned into mode 2:
 *                 an arbitrary path could name a FIFO or a terminal)
 *              4+ dtp_error_format of an error with code = the first two
 *                 text bytes, detail = the rest
 *   mode >> 3     output buffer size: 1 + 8 * (mode >> 3) bytes, allocated
 *                 exactly, so ASan sees any overrun
 * Every input also goes through the name lookups. Aborts on a result
 * that breaks the documented contract (no NUL, wrong reason, pass: text
 * not returned as given).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dtp/dtp.h"

static char tmpfile_path[64];

static void remove_tmpfile(void)
{
    if (tmpfile_path[0])
        unlink(tmpfile_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(tmpfile_path, sizeof tmpfile_path, "/tmp/dtp-fuzz-password.XXXXXX");
    int fd = mkstemp(tmpfile_path);
    if (fd < 0) {
        perror("fuzz_password: mkstemp");
        exit(2);
    }
    close(fd);
    atexit(remove_tmpfile);
    return 0;
}

#define FAIL(...)                                                                                                    \
    do {                                                                                                             \
        fprintf(stderr, "fuzz_password: " __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                                         \
        abort();                                                                                                     \
    } while (0)

static void check_error(const struct dtp_error *err, int rc)
{
    if (!memchr(err->detail, '\0', sizeof err->detail))
        FAIL("error detail not NUL-terminated");
    if (rc != DTP_OK && (rc != DTP_R_KEY_PASSWORD || err->code != rc))
        FAIL("dtp_read_password returned %d (error %d), expected %d", rc, err->code, DTP_R_KEY_PASSWORD);
}

static void read_password(const char *spec, size_t outlen, const char *pass_text)
{
    char *out = malloc(outlen);
    if (!out)
        abort();
    struct dtp_error err;
    memset(&err, 0, sizeof err);
    int rc = dtp_read_password(spec, out, outlen, &err);
    check_error(&err, rc);
    if (rc == DTP_OK) {
        if (!memchr(out, '\0', outlen))
            FAIL("password not NUL-terminated in a %zu-byte buffer", outlen);
        if (pass_text && strncmp(out, pass_text, outlen - 1) != 0)
            FAIL("pass: text not returned as given");
    }
    free(out);
}

static void lookups(const char *text)
{
    int reason = -1;
    const struct dtp_profile *p = dtp_profile_find(text, &reason);
    if (p && strcmp(p->key, text) != 0)
        FAIL("dtp_profile_find(\"%s\") gave profile %s", text, p->key);
    if (!p && reason != DTP_R_PROFILE_UNKNOWN && reason != DTP_R_PROFILE_RETIRED)
        FAIL("dtp_profile_find(\"%s\"): reason %d", text, reason);
    const struct dtp_retired_profile *r = dtp_retired_profile_find(text);
    if (r && strcmp(r->key, text) != 0)
        FAIL("dtp_retired_profile_find(\"%s\") gave %s", text, r->key);
    const struct dtp_reason *row = dtp_reason_by_name(text);
    if (row && strcmp(row->name, text) != 0)
        FAIL("dtp_reason_by_name(\"%s\") gave %s", text, row->name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0];
    size_t outlen = 1 + 8 * (size_t)(mode >> 3);
    data++;
    size--;
    /* The text as a C string (the apps get NUL-terminated argv). */
    char *text = malloc(size + 1);
    char *spec = malloc(size + 64);
    if (!text || !spec)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    lookups(text);

    switch (mode & 7) {
    case 3:
        if (strncmp(text, "file:", 5) != 0) {
            read_password(text, outlen, strncmp(text, "pass:", 5) == 0 ? text + 5 : NULL);
            break;
        }
        memmove(text, text + 5, strlen(text + 5) + 1); /* file:XYZ -> a file holding XYZ */
        /* fall through */
    case 2: {
        FILE *f = fopen(tmpfile_path, "wb");
        if (!f || fwrite(text, 1, strlen(text), f) != strlen(text) || fclose(f) != 0)
            FAIL("cannot write %s", tmpfile_path);
        snprintf(spec, size + 64, "file:%s", tmpfile_path);
        read_password(spec, outlen, NULL);
        break;
    }
    case 0:
        snprintf(spec, size + 64, "pass:%s", text);
        read_password(spec, outlen, text);
        break;
    case 1:
        setenv("DTP_FUZZ_PASSWORD", text, 1);
        read_password("env:DTP_FUZZ_PASSWORD", outlen, NULL);
        break;
    default: {
        struct dtp_error err;
        memset(&err, 0, sizeof err);
        if (size >= 2) {
            err.code = (int)((unsigned)data[0] << 8 | data[1]);
            size_t n = size - 2 < sizeof err.detail - 1 ? size - 2 : sizeof err.detail - 1;
            memcpy(err.detail, data + 2, n);
        }
        char *out = malloc(outlen);
        if (!out)
            abort();
        const char *s = dtp_error_format(&err, out, outlen);
        if (s != out || !memchr(out, '\0', outlen))
            FAIL("dtp_error_format: no NUL-terminated result in %zu bytes", outlen);
        free(out);
        break;
    }
    }
    free(text);
    free(spec);
    return 0;
}
