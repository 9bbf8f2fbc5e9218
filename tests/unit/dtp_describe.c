/* Prints from the library's tables:
 *   dtp-describe               what every profile hands OpenSSL, both roles
 *                              (the snapshot pinned by tests/golden/profiles.txt)
 *   dtp-describe --profiles-md the README's profile table
 *   dtp-describe --reasons-md  the README's reason table
 * scripts/update-docs.sh writes the tables into README.md; the docs test
 * fails when README.md and the tables disagree. */
#include <stdio.h>
#include <string.h>

#include "dtp/dtp.h"

static void suites_md(const char *const *list)
{
    if (!list) {
        printf("none");
        return;
    }
    for (size_t i = 0; list[i]; i++)
        printf("%s`%s`%s", i ? "<br>" : "", list[i], dtp_suite_available(list[i]) ? "" : " (n/a in OpenSSL 3.0)");
}

static int profiles_md(void)
{
    printf("| key | profile | versions | TLS 1.2 suites (server preference order) | TLS 1.3 suites | groups | min DHE / ECDHE / RSA / EC bits |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < dtp_profile_count(); i++) {
        const struct dtp_profile *p = dtp_profile_at(i);
        printf("| `%s`%s%s | %s (%s; %s) | %s to %s%s | ", p->key, p->dcmtk_option ? " " : "",
               p->dcmtk_option ? p->dcmtk_option : "", p->title, p->reference, p->requirements,
               dtp_tls_version_name(p->min_version), dtp_tls_version_name(p->max_version),
               p->may_downgrade ? ", downgrades flagged" : "");
        suites_md(p->tls12_suites);
        if (p->fallback_suites) {
            printf("<br>fallback: ");
            suites_md(p->fallback_suites);
        }
        printf(" | ");
        suites_md(p->tls13_suites);
        printf(" | ");
        for (size_t g = 0; p->groups[g]; g++)
            printf("%s`%s`", g ? " " : "", p->groups[g]);
        printf(" | %d / %d / %d / %d%s |\n", p->min_dhe_bits, p->min_ecdhe_bits, p->min_rsa_bits, p->min_ec_bits,
               p->key_sizes_relaxable ? " (should)" : "");
    }
    return 0;
}

static int reasons_md(void)
{
    printf("| code | name | kind | A-P-ABORT | meaning | what to do |\n|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < dtp_reason_count(); i++) {
        const struct dtp_reason *r = dtp_reason_at(i);
        printf("| %d | `%s` | %s | %s | %s | %s |\n", r->code, r->name, r->category, r->a_p_abort ? "yes" : "no",
               r->message, r->action);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--profiles-md") == 0)
        return profiles_md();
    if (argc > 1 && strcmp(argv[1], "--reasons-md") == 0)
        return reasons_md();
    char buf[8192];
    for (size_t i = 0; i < dtp_profile_count(); i++)
        for (int role = DTP_ROLE_CLIENT; role <= DTP_ROLE_SERVER; role++) {
            struct dtp_error err = {0};
            if (!dtp_profile_describe(dtp_profile_at(i), role, buf, sizeof buf, &err)) {
                fprintf(stderr, "describe %s: %d %s\n", dtp_profile_at(i)->key, err.code, err.detail);
                return 1;
            }
            printf("%s\n", buf);
        }
    return 0;
}
