/*
 * dcmtls-profiles: AE titles bound to certificates ("who is on the other
 * end"). TLS alone says that the peer holds a certificate of a trusted CA;
 * a peer map says which certificate may present which DICOM AE title, and
 * under which profile. dtp-storescp checks the calling AE title of each
 * association against the client certificate (A-ASSOCIATE-RJ when they do
 * not belong together), dtp-storescu the called AE title against the
 * server certificate (before the association request is sent).
 *
 * The map file (--peer-map FILE) is text, one peer per line:
 *
 *     AE_TITLE IDENTITY [PROFILE]
 *
 * Fields are separated by blanks (spaces, tabs). A field, or a part of
 * it, in double quotes keeps its blanks: "MY AE" or cn:"dtp test client"
 * (a quote character itself cannot be written). A field that starts with
 * '#' outside quotes begins a comment to the end of the line; blank lines
 * are ignored. Lines end with LF (a CR before it is ignored).
 *
 * AE_TITLE   1-16 characters of the DICOM AE VR (PS3.5 6.2): printable
 *            ASCII, no backslash; leading and trailing spaces are not
 *            significant (trimmed), a title of spaces only is refused.
 *            Compared case-sensitively, as DICOM does.
 * IDENTITY   what the peer certificate must show, one of
 *              cn:NAME      a commonName of the subject, exactly (UTF-8)
 *              dns:NAME     a subjectAltName dNSName, ASCII case-insensitive;
 *                           no wildcard matching ("dns:*.example.org"
 *                           matches only that literal SAN entry)
 *              ip:ADDRESS   a subjectAltName iPAddress (IPv4 or IPv6)
 *              sha256:HEX   SHA-256 of the certificate (DER): 64 hex digits,
 *                           or 32 pairs separated by colons as
 *                           `openssl x509 -noout -fingerprint -sha256` prints
 *              spki:HEX     SHA-256 of the certificate's DER
 *                           SubjectPublicKeyInfo (RFC 7469's pin-sha256, in
 *                           hex): survives a renewal with the same key
 * PROFILE    optional: the key of a profile (--list-profiles) the peer must
 *            be using; without it any profile of the listener will do.
 *
 * Several lines may name one AE title: any line that matches admits. One
 * certificate may be bound to several AE titles. The same AE title and
 * identity on two lines is refused: with different (or one without a)
 * PROFILE the lines contradict each other, with the same one the second
 * repeats the first.
 */
#ifndef DTP_PEERMAP_H
#define DTP_PEERMAP_H

#include "dtp/dtp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dtp_peer_map dtp_peer_map;

/* Reads and checks a map file (format above). Returns the map (free it
 * with dtp_peer_map_free), or NULL with err filled: DTP_R_PEER_MAP, whose
 * detail names the file and, for a bad line, its number ("peers.map line 7:
 * ..."), or DTP_R_INTERNAL (out of memory). A file without any peer line
 * is refused too (every AE title would be refused). */
DTP_API dtp_peer_map *dtp_peer_map_load(const char *path, struct dtp_error *err);
/* The same from memory: text of len bytes (need not be NUL-terminated);
 * name stands for the file name in error details and check details. */
DTP_API dtp_peer_map *dtp_peer_map_parse(const char *text, size_t len, const char *name, struct dtp_error *err);
DTP_API void dtp_peer_map_free(dtp_peer_map *map); /* NULL is fine */

/* Number of peer lines (comments and blank lines not counted). */
DTP_API size_t dtp_peer_map_count(const dtp_peer_map *map);
/* The name given to load (the path) or parse; owned by map. */
DTP_API const char *dtp_peer_map_name(const dtp_peer_map *map);
/* Whether some line names ae_title (trimmed as DICOM does). */
DTP_API bool dtp_peer_map_lists(const dtp_peer_map *map, const char *ae_title);

/* What dtp_peer_map_check decided. */
enum dtp_peer_decision {
    DTP_PEER_ADMITTED = 0,        /* a line of the AE title matches certificate and profile */
    DTP_PEER_AE_UNLISTED = 1,     /* no line names the AE title (DTP_R_PEER_AE_UNLISTED) */
    DTP_PEER_CERT_MISMATCH = 2,   /* listed, but no line's identity matches the certificate, or
                                     there is none (DTP_R_PEER_CERT_NOT_BOUND) */
    DTP_PEER_PROFILE_MISMATCH = 3 /* identity matches, but only lines requiring another profile
                                     (DTP_R_PEER_PROFILE_MISMATCH) */
};

/* Is the peer that presents ae_title (trimmed as DICOM does) with the
 * certificate cert_der (DER, cert_len bytes; NULL/0: the peer sent none)
 * and negotiated profile_key (NULL: unknown) the one the map binds to that
 * AE title? Returns the decision. err (if non-NULL) gets the reason code
 * (DTP_OK when admitted) and a detail naming the AE title, the
 * certificate's subject and SHA-256 fingerprint, and the map lines tried
 * (admitted: the line that matched). A certificate that cannot be parsed
 * matches no line. */
DTP_API int dtp_peer_map_check(const dtp_peer_map *map, const char *ae_title, const void *cert_der, size_t cert_len,
                               const char *profile_key, struct dtp_error *err);

#ifdef __cplusplus
}
#endif
#endif
