/* What the two graders share: scan.c grades a server scan, hello.c a
 * ClientHello, and both write findings the same way, name suites by the
 * same classes and cite the same members of struct dtp_profile_reqs.
 * Internal: nothing here leaves the library. */
#ifndef DTP_GRADE_H
#define DTP_GRADE_H

#include "dtp/check.h"

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__)
#define DTP__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DTP__PRINTF(f, a)
#endif

/* The findings of one grade being written. */
struct dtp__sink {
    struct dtp_grade *g;
    int omitted; /* findings counted but not stored (the array was full) */
};

/* Empties *g for profile p and points s at it. */
void dtp__sink_begin(struct dtp__sink *s, struct dtp_grade *g, const struct dtp_profile *p);
/* One finding: an info finding never fails; a violated shall counts as a
 * failure, a violated should as a warning; past the array's end only
 * counted. */
void dtp__add(struct dtp__sink *s, const char *req, int level, bool ok, const char *f, ...) DTP__PRINTF(5, 6);
/* The last slot says how many findings were left out; sets conforms (no
 * failure, and the grade reached its subject). */
void dtp__sink_end(struct dtp__sink *s);

void dtp__fmt(char *buf, size_t len, const char *f, ...) DTP__PRINTF(3, 4);
/* Appends " word" (no space first) within len. */
void dtp__append_word(char *buf, size_t len, const char *word);
/* Appends an ID ("R17" or "M26/M8") to a "/"-joined list, each token once. */
void dtp__join_id(char *dst, size_t len, const char *ids);

bool dtp__in_list(const char *const *list, const char *name);
/* "SSLv3", "TLSv1.0" .. "TLSv1.3" (dtp_tls_version_name for the rest). */
const char *dtp__version_name(int version);

/* Suites by IANA name. */
bool dtp__suite_is_tls13(const char *suite);
bool dtp__suite_is_dhe(const char *suite);
bool dtp__group_is_ff(const char *group);
/* Whether the row lets a server negotiate the suite at its version. */
bool dtp__row_offers_suite(const struct dtp_profile *p, const char *suite);

/* The classes of suites a profile keeps out, each cited through its member
 * of struct dtp_profile_reqs: the weak ones (NULL, export, anonymous, RC4,
 * DES, 3DES) and the others (static RSA, CBC, DHE). */
enum dtp__suite_family { DTP__WEAK = 0, DTP__OTHER = 1 };
/* The IDs ("/"-joined) and highest level of the classes of the family the
 * suite is in (every class of it when suite is NULL); whether any class
 * matched, with or without an ID. */
bool dtp__classify(const struct dtp_profile_reqs *q, int family, const char *suite, char *ids, size_t len,
                   int *level);
/* Where a suite stands under a row, and the IDs ("" none: no rule) and
 * level it cites: in the row's lists (nothing cited); weak (a weak class);
 * allowed (reqs.allowed, info); other (the other classes, else reqs.other). */
enum dtp__suite_place { DTP__IN_ROW = 0, DTP__WEAK_SUITE, DTP__ALLOWED_SUITE, DTP__OTHER_SUITE };
int dtp__suite_place(const struct dtp_profile *p, const char *suite, char *ids, size_t len, int *level);
/* The "none of them" findings of the suite classes after a grader has
 * reported each violation: one ok finding for the weak classes unless
 * weak_bad, one for the other classes and reqs.other unless other_bad.
 * verb: "accepted" (server) or "offered" (client). */
void dtp__suite_classes_ok(struct dtp__sink *s, const struct dtp_profile_reqs *q, bool weak_bad, bool other_bad,
                           const char *verb);

#endif
