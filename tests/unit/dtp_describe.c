/* Prints what every profile hands OpenSSL in both roles: the snapshot that
 * tests/golden/profiles.txt pins for review. */
#include <stdio.h>

#include "dtp/dtp.h"

int main(void)
{
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
