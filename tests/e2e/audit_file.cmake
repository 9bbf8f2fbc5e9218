# The audit trail to a file (--audit file:PATH): what dtp-storescp and
# dtp-storescu record for transfers, a refused client and start/stop, the
# spool keeping what a sink cannot take, and every message valid against the
# DICOM audit message schema (tests/audit/validate.sh; SKIP without
# xmllint). Included from tests/CMakeLists.txt.
dtp_e2e(e2e.audit.file audit_file.sh LABELS loopback TIMEOUT 120)
