# Session tickets shared by several server contexts (R37: the key file,
# rotation, bad files, lifetime) and dtp_ctx_cert_not_after: real
# handshakes over socketpairs on every backend built in. Included by
# tests/CMakeLists.txt.
dtp_unit_test(test_tickets FIXTURES pki ARGS ${DTP_PKI} CASES
  shared_file_resumes_across_contexts rotation_keeps_old_tickets other_file_full_handshake
  bad_files_refused good_file_forms ticket_lifetime_bounded cert_not_after)
