# The audit trail (dtp/audit.h): the DICOM audit message writer (PS3.15
# A.5.1), RFC 5424 header and RFC 5425 framing, the spool, and the sender
# to a file, over UDP and over TLS (real handshakes with the PKI fixture).
# Included by tests/CMakeLists.txt.
dtp_unit_test(test_audit FIXTURES pki ARGS ${DTP_PKI} CASES
  xml_order_and_codes xml_hostile_strings xml_study_description xml_refusals syslog_header
  frame_octet_counting spool_order_and_content spool_bound_drops_oldest sender_file sender_bad_urls
  sender_udp_down_then_up sender_tls_frames)
