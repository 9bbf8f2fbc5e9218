# dtp_probe_run against real servers on 127.0.0.1: the library's own server
# contexts (both backends) and raw TCP servers (plain text, silence, a
# canned ServerHello). Included by tests/CMakeLists.txt.
dtp_unit_test(test_probe FIXTURES pki ARGS ${DTP_PKI} CASES
  accepted_tls13_default accepted_tls12_and_ec version_refused_tls11 suite_refused_and_accepted
  sha1_sigalgs_refused sslv3_raw_refused scsv no_ems no_client_cert_tls13 alpn_other_refused
  verify_result chain_fields not_tls closed timeout unreachable renegotiation compression_refused
  raw_suite_accepted hostile_answers local_offers malformed_probe camellia_gnutls gnutls_probe_fields)
