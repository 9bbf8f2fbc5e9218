# The scan plan and the grader (dtp/check.h, src/scan.c) on synthetic
# scans: no TLS, no fixtures.
dtp_unit_test(test_scan CASES
  perfect_conforms_to_itself conformance_table tls11_under_nd cbc_under_b13 weak_dh sha1_leaf_under_b13
  no_client_cert_b12 compression_accepted scsv_ignored_bcp195 x25519_under_ex ems_missing_b12 all_unreachable
  camellia_local_not_checked plan_every_suite_once plan_entries_complete plan_deterministic
  scan_c_has_no_profile_key reqs_consistent findings_overflow_counted hello_only_weak_suite every_chain_graded)
# A profile is data: the case above reads scan.c for profile keys.
target_compile_definitions(test_scan PRIVATE DTP_SCAN_SOURCE="${PROJECT_SOURCE_DIR}/dcmtls-profiles/src/scan.c")
