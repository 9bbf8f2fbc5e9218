# AE titles bound to certificates (dtp/peermap.h): the --peer-map file's
# syntax and errors, and the check of each identity kind against the PKI
# fixture's certificates. Included from tests/CMakeLists.txt.
dtp_unit_test(test_peermap FIXTURES pki ARGS ${DTP_PKI} CASES
  accepted_forms every_error_names_its_line load_names_file_and_line each_identity_kind profile_bound_lines)
