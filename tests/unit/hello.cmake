# Client mode of the checker (dtp/check.h, src/hello.c): ClientHellos
# recorded in real handshakes against the PKI fixture, and graded from
# synthetic hellos. Included from tests/CMakeLists.txt.
dtp_unit_test(test_hello FIXTURES pki ARGS ${DTP_PKI} CASES
  own_hello_conforms b13_hello_conforms_to_b13 tls11_under_nd lowest_version_unseen cbc_offered
  weak_and_unknown_suites no_ems_b12 compression_c4 x25519_under_ex sha1_sigalgs tls13_only fallback_scsv
  first_suite_r23 required_suites extensions no_hello_and_failed_handshake hello_c_has_no_profile_key
  client_reqs_consistent recorded_from_each_profile failed_handshake_still_recorded hello_retry_request
  observer_refused_elsewhere)
# A profile is data: the case above reads hello.c for profile keys.
target_compile_definitions(test_hello PRIVATE DTP_HELLO_SOURCE="${PROJECT_SOURCE_DIR}/dcmtls-profiles/src/hello.c")
