/*
 * Client mode (dtp/check.h): a ClientHello recorded into the neutral
 * struct dtp_client_hello, and its grade against one profile row.
 *
 * Recording: a backend's hello callback hands over the wire bytes of the
 * suites, the compression methods and each extension (dtp__hello_* in
 * internal.h); this file parses them, bounded, without allocating, and
 * names codes from the IANA registries below.
 *
 * Grading: as the server grader (scan.c), table-driven. Every ID and level
 * comes from the row's reqs (struct dtp_profile_reqs, the members marked
 * "client:", and reqs.client), every limit from the row's other fields;
 * the grader never asks which profile it grades. One ClientHello shows
 * what a client offers, not what it would accept after a refusal: where
 * that matters (the lowest version of a TLS 1.2 hello without
 * supported_versions, whether a client has TLS 1.3) the finding is info.
 */
#include "internal.h"
#include "grade.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* IANA names                                                           */

/* TLS Cipher Suites: every suite OpenSSL 3.0 knows (`openssl ciphers -V
 * -stdname ALL:COMPLEMENTOFALL:@SECLEVEL=0`), the Camellia-GCM suites
 * GnuTLS has (E3, K3, M21), and the weak classics old stacks still offer
 * (RC4, DES, 3DES, export; C3, B4, R14-R16). Sorted by code. */
struct iana {
    unsigned int code;
    const char *name;
    int bits; /* groups: key size; signature schemes: the hash's bits; suites: 0 */
};

static const struct iana suite_names[] = {
    {0x0001, "TLS_RSA_WITH_NULL_MD5", 0},
    {0x0002, "TLS_RSA_WITH_NULL_SHA", 0},
    {0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", 0},
    {0x0004, "TLS_RSA_WITH_RC4_128_MD5", 0},
    {0x0005, "TLS_RSA_WITH_RC4_128_SHA", 0},
    {0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", 0},
    {0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", 0},
    {0x0009, "TLS_RSA_WITH_DES_CBC_SHA", 0},
    {0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", 0},
    {0x0011, "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA", 0},
    {0x0012, "TLS_DHE_DSS_WITH_DES_CBC_SHA", 0},
    {0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", 0},
    {0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", 0},
    {0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA", 0},
    {0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", 0},
    {0x0017, "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5", 0},
    {0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", 0},
    {0x0019, "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA", 0},
    {0x001A, "TLS_DH_anon_WITH_DES_CBC_SHA", 0},
    {0x001B, "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA", 0},
    {0x002C, "TLS_PSK_WITH_NULL_SHA", 0},
    {0x002D, "TLS_DHE_PSK_WITH_NULL_SHA", 0},
    {0x002E, "TLS_RSA_PSK_WITH_NULL_SHA", 0},
    {0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", 0},
    {0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA", 0},
    {0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", 0},
    {0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", 0},
    {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", 0},
    {0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", 0},
    {0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", 0},
    {0x003A, "TLS_DH_anon_WITH_AES_256_CBC_SHA", 0},
    {0x003B, "TLS_RSA_WITH_NULL_SHA256", 0},
    {0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", 0},
    {0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", 0},
    {0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", 0},
    {0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", 0},
    {0x0044, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA", 0},
    {0x0045, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA", 0},
    {0x0046, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA", 0},
    {0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", 0},
    {0x006A, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", 0},
    {0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", 0},
    {0x006C, "TLS_DH_anon_WITH_AES_128_CBC_SHA256", 0},
    {0x006D, "TLS_DH_anon_WITH_AES_256_CBC_SHA256", 0},
    {0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA", 0},
    {0x0087, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA", 0},
    {0x0088, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA", 0},
    {0x0089, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA", 0},
    {0x008C, "TLS_PSK_WITH_AES_128_CBC_SHA", 0},
    {0x008D, "TLS_PSK_WITH_AES_256_CBC_SHA", 0},
    {0x0090, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA", 0},
    {0x0091, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA", 0},
    {0x0094, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA", 0},
    {0x0095, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA", 0},
    {0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", 0},
    {0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", 0},
    {0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", 0},
    {0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", 0},
    {0x00A2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", 0},
    {0x00A3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", 0},
    {0x00A6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256", 0},
    {0x00A7, "TLS_DH_anon_WITH_AES_256_GCM_SHA384", 0},
    {0x00A8, "TLS_PSK_WITH_AES_128_GCM_SHA256", 0},
    {0x00A9, "TLS_PSK_WITH_AES_256_GCM_SHA384", 0},
    {0x00AA, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256", 0},
    {0x00AB, "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384", 0},
    {0x00AC, "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256", 0},
    {0x00AD, "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384", 0},
    {0x00AE, "TLS_PSK_WITH_AES_128_CBC_SHA256", 0},
    {0x00AF, "TLS_PSK_WITH_AES_256_CBC_SHA384", 0},
    {0x00B0, "TLS_PSK_WITH_NULL_SHA256", 0},
    {0x00B1, "TLS_PSK_WITH_NULL_SHA384", 0},
    {0x00B2, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256", 0},
    {0x00B3, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384", 0},
    {0x00B4, "TLS_DHE_PSK_WITH_NULL_SHA256", 0},
    {0x00B5, "TLS_DHE_PSK_WITH_NULL_SHA384", 0},
    {0x00B6, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256", 0},
    {0x00B7, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384", 0},
    {0x00B8, "TLS_RSA_PSK_WITH_NULL_SHA256", 0},
    {0x00B9, "TLS_RSA_PSK_WITH_NULL_SHA384", 0},
    {0x00BA, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256", 0},
    {0x00BD, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256", 0},
    {0x00BE, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", 0},
    {0x00BF, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256", 0},
    {0x00C0, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256", 0},
    {0x00C3, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256", 0},
    {0x00C4, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256", 0},
    {0x00C5, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256", 0},
    {0x1301, "TLS_AES_128_GCM_SHA256", 0},
    {0x1302, "TLS_AES_256_GCM_SHA384", 0},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256", 0},
    {0x1304, "TLS_AES_128_CCM_SHA256", 0},
    {0x1305, "TLS_AES_128_CCM_8_SHA256", 0},
    {0xC006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA", 0},
    {0xC007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", 0},
    {0xC008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", 0},
    {0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 0},
    {0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 0},
    {0xC010, "TLS_ECDHE_RSA_WITH_NULL_SHA", 0},
    {0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", 0},
    {0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", 0},
    {0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0},
    {0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 0},
    {0xC015, "TLS_ECDH_anon_WITH_NULL_SHA", 0},
    {0xC016, "TLS_ECDH_anon_WITH_RC4_128_SHA", 0},
    {0xC017, "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA", 0},
    {0xC018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", 0},
    {0xC019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA", 0},
    {0xC01D, "TLS_SRP_SHA_WITH_AES_128_CBC_SHA", 0},
    {0xC01E, "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA", 0},
    {0xC01F, "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA", 0},
    {0xC020, "TLS_SRP_SHA_WITH_AES_256_CBC_SHA", 0},
    {0xC021, "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA", 0},
    {0xC022, "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA", 0},
    {0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", 0},
    {0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", 0},
    {0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 0},
    {0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", 0},
    {0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0},
    {0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0},
    {0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0},
    {0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0},
    {0xC035, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA", 0},
    {0xC036, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA", 0},
    {0xC037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", 0},
    {0xC038, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384", 0},
    {0xC039, "TLS_ECDHE_PSK_WITH_NULL_SHA", 0},
    {0xC03A, "TLS_ECDHE_PSK_WITH_NULL_SHA256", 0},
    {0xC03B, "TLS_ECDHE_PSK_WITH_NULL_SHA384", 0},
    {0xC050, "TLS_RSA_WITH_ARIA_128_GCM_SHA256", 0},
    {0xC051, "TLS_RSA_WITH_ARIA_256_GCM_SHA384", 0},
    {0xC052, "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256", 0},
    {0xC053, "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384", 0},
    {0xC056, "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256", 0},
    {0xC057, "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384", 0},
    {0xC05C, "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256", 0},
    {0xC05D, "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384", 0},
    {0xC060, "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256", 0},
    {0xC061, "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384", 0},
    {0xC06A, "TLS_PSK_WITH_ARIA_128_GCM_SHA256", 0},
    {0xC06B, "TLS_PSK_WITH_ARIA_256_GCM_SHA384", 0},
    {0xC06C, "TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256", 0},
    {0xC06D, "TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384", 0},
    {0xC06E, "TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256", 0},
    {0xC06F, "TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384", 0},
    {0xC072, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256", 0},
    {0xC073, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384", 0},
    {0xC076, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", 0},
    {0xC077, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384", 0},
    {0xC07A, "TLS_RSA_WITH_CAMELLIA_128_GCM_SHA256", 0},
    {0xC07B, "TLS_RSA_WITH_CAMELLIA_256_GCM_SHA384", 0},
    {0xC07C, "TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", 0},
    {0xC07D, "TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384", 0},
    {0xC080, "TLS_DHE_DSS_WITH_CAMELLIA_128_GCM_SHA256", 0},
    {0xC081, "TLS_DHE_DSS_WITH_CAMELLIA_256_GCM_SHA384", 0},
    {0xC084, "TLS_DH_anon_WITH_CAMELLIA_128_GCM_SHA256", 0},
    {0xC085, "TLS_DH_anon_WITH_CAMELLIA_256_GCM_SHA384", 0},
    {0xC086, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256", 0},
    {0xC087, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384", 0},
    {0xC08A, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", 0},
    {0xC08B, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384", 0},
    {0xC094, "TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256", 0},
    {0xC095, "TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384", 0},
    {0xC096, "TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256", 0},
    {0xC097, "TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384", 0},
    {0xC098, "TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256", 0},
    {0xC099, "TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384", 0},
    {0xC09A, "TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256", 0},
    {0xC09B, "TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384", 0},
    {0xC09C, "TLS_RSA_WITH_AES_128_CCM", 0},
    {0xC09D, "TLS_RSA_WITH_AES_256_CCM", 0},
    {0xC09E, "TLS_DHE_RSA_WITH_AES_128_CCM", 0},
    {0xC09F, "TLS_DHE_RSA_WITH_AES_256_CCM", 0},
    {0xC0A0, "TLS_RSA_WITH_AES_128_CCM_8", 0},
    {0xC0A1, "TLS_RSA_WITH_AES_256_CCM_8", 0},
    {0xC0A2, "TLS_DHE_RSA_WITH_AES_128_CCM_8", 0},
    {0xC0A3, "TLS_DHE_RSA_WITH_AES_256_CCM_8", 0},
    {0xC0A4, "TLS_PSK_WITH_AES_128_CCM", 0},
    {0xC0A5, "TLS_PSK_WITH_AES_256_CCM", 0},
    {0xC0A6, "TLS_DHE_PSK_WITH_AES_128_CCM", 0},
    {0xC0A7, "TLS_DHE_PSK_WITH_AES_256_CCM", 0},
    {0xC0A8, "TLS_PSK_WITH_AES_128_CCM_8", 0},
    {0xC0A9, "TLS_PSK_WITH_AES_256_CCM_8", 0},
    {0xC0AA, "TLS_PSK_DHE_WITH_AES_128_CCM_8", 0},
    {0xC0AB, "TLS_PSK_DHE_WITH_AES_256_CCM_8", 0},
    {0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", 0},
    {0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", 0},
    {0xC0AE, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", 0},
    {0xC0AF, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", 0},
    {0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0},
    {0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 0},
    {0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0},
    {0xCCAB, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256", 0},
    {0xCCAC, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", 0},
    {0xCCAD, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256", 0},
    {0xCCAE, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256", 0},
};

/* TLS Supported Groups, with the key size each gives (X25519 counts 255
 * bits, E5, M17, Q2). */
static const struct iana group_names[] = {
    {0x0001, "sect163k1", 163},       {0x0002, "sect163r1", 163},      {0x0003, "sect163r2", 163},
    {0x0004, "sect193r1", 193},       {0x0005, "sect193r2", 193},      {0x0006, "sect233k1", 233},
    {0x0007, "sect233r1", 233},       {0x0008, "sect239k1", 239},      {0x0009, "sect283k1", 283},
    {0x000A, "sect283r1", 283},       {0x000B, "sect409k1", 409},      {0x000C, "sect409r1", 409},
    {0x000D, "sect571k1", 571},       {0x000E, "sect571r1", 571},      {0x000F, "secp160k1", 160},
    {0x0010, "secp160r1", 160},       {0x0011, "secp160r2", 160},      {0x0012, "secp192k1", 192},
    {0x0013, "secp192r1", 192},       {0x0014, "secp224k1", 224},      {0x0015, "secp224r1", 224},
    {0x0016, "secp256k1", 256},       {0x0017, "secp256r1", 256},      {0x0018, "secp384r1", 384},
    {0x0019, "secp521r1", 521},       {0x001A, "brainpoolP256r1", 256}, {0x001B, "brainpoolP384r1", 384},
    {0x001C, "brainpoolP512r1", 512}, {0x001D, "x25519", 255},          {0x001E, "x448", 448},
    {0x001F, "brainpoolP256r1tls13", 256}, {0x0020, "brainpoolP384r1tls13", 384},
    {0x0021, "brainpoolP512r1tls13", 512}, {0x0100, "ffdhe2048", 2048}, {0x0101, "ffdhe3072", 3072},
    {0x0102, "ffdhe4096", 4096},      {0x0103, "ffdhe6144", 6144},     {0x0104, "ffdhe8192", 8192},
};

/* TLS SignatureScheme, with the bits of each scheme's hash (160 SHA-1,
 * 128 MD5; 0 for EdDSA, whose hash is part of the scheme). The TLS 1.2
 * (hash, signature) pairs that have no SignatureScheme name are named
 * after them (R32, R33, M10). */
static const struct iana sigalg_names[] = {
    {0x0101, "rsa_md5", 128},           {0x0102, "dsa_md5", 128},            {0x0103, "ecdsa_md5", 128},
    {0x0201, "rsa_pkcs1_sha1", 160},    {0x0202, "dsa_sha1", 160},           {0x0203, "ecdsa_sha1", 160},
    {0x0301, "rsa_sha224", 224},        {0x0302, "dsa_sha224", 224},         {0x0303, "ecdsa_sha224", 224},
    {0x0401, "rsa_pkcs1_sha256", 256},  {0x0402, "dsa_sha256", 256},         {0x0403, "ecdsa_secp256r1_sha256", 256},
    {0x0501, "rsa_pkcs1_sha384", 384},  {0x0502, "dsa_sha384", 384},         {0x0503, "ecdsa_secp384r1_sha384", 384},
    {0x0601, "rsa_pkcs1_sha512", 512},  {0x0602, "dsa_sha512", 512},         {0x0603, "ecdsa_secp521r1_sha512", 512},
    {0x0804, "rsa_pss_rsae_sha256", 256}, {0x0805, "rsa_pss_rsae_sha384", 384}, {0x0806, "rsa_pss_rsae_sha512", 512},
    {0x0807, "ed25519", 0},             {0x0808, "ed448", 0},                {0x0809, "rsa_pss_pss_sha256", 256},
    {0x080A, "rsa_pss_pss_sha384", 384}, {0x080B, "rsa_pss_pss_sha512", 512},
    {0x081A, "ecdsa_brainpoolP256r1tls13_sha256", 256}, {0x081B, "ecdsa_brainpoolP384r1tls13_sha384", 384},
    {0x081C, "ecdsa_brainpoolP512r1tls13_sha512", 512},
};

/* RFC 8701: 0x0A0A, 0x1A1A, ... 0xFAFA, never a real value. */
static bool grease(unsigned int v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

static const struct iana *lookup(const struct iana *t, size_t n, unsigned int code)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].code == code)
            return &t[i];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Recording (the backend's hello callback)                             */

static unsigned int u16(const unsigned char *p) { return (unsigned int)p[0] << 8 | p[1]; }

/* A code appended to a bounded list, named from table t; GREASE left out,
 * what does not fit counted. */
static void put(struct dtp_client_hello *h, struct dtp_hello_code *list, size_t *n, size_t max, const struct iana *t,
                size_t nt, unsigned int code)
{
    if (grease(code))
        return;
    if (*n >= max) {
        h->dropped++;
        return;
    }
    const struct iana *x = lookup(t, nt, code);
    list[(*n)++] = (struct dtp_hello_code){code, x ? x->name : NULL, x ? x->bits : 0};
}

/* The 2-byte codes of an extension body: a 2-byte length, then the list. */
static void put_codes(struct dtp_client_hello *h, struct dtp_hello_code *list, size_t *n, size_t max,
                      const struct iana *t, size_t nt, const unsigned char *p, size_t len)
{
    size_t l = len >= 2 ? u16(p) : 0;
    if (l > len - 2)
        l = len - 2;
    for (size_t i = 0; i + 2 <= l; i += 2)
        put(h, list, n, max, t, nt, u16(p + 2 + i));
}

/* A client's bytes made printable for the evidence and the JSON. */
static void copy_text(char *dst, size_t size, const unsigned char *src, size_t n)
{
    if (n >= size)
        n = size - 1;
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
    dst[n] = '\0';
}

void dtp__hello_begin(struct dtp_client_hello *h, int legacy_version)
{
    memset(h, 0, sizeof *h);
    h->legacy_version = legacy_version;
}

void dtp__hello_suites(struct dtp_client_hello *h, const unsigned char *p, size_t len)
{
    for (size_t i = 0; i + 2 <= len; i += 2) {
        unsigned int code = u16(p + i);
        if (code == 0x5600)
            h->fallback_scsv = true;
        else if (code == 0x00FF)
            h->renegotiation_scsv = true;
        else
            put(h, h->suites, &h->n_suites, DTP_HELLO_MAX_SUITES, suite_names, COUNT(suite_names), code);
    }
}

void dtp__hello_compression(struct dtp_client_hello *h, const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (h->n_compression < sizeof h->compression)
            h->compression[h->n_compression++] = p[i];
        else
            h->dropped++;
    }
}

void dtp__hello_extension(struct dtp_client_hello *h, unsigned int type, const unsigned char *p, size_t len)
{
    if (!grease(type)) {
        if (h->n_extensions < DTP_HELLO_MAX_LIST)
            h->extensions[h->n_extensions++] = type;
        else
            h->dropped++;
    }
    size_t l = 0;
    switch (type) {
    case 0: /* server_name (RFC 6066): the first entry, a host_name */
        if (len >= 5 && p[2] == 0)
            copy_text(h->sni, sizeof h->sni, p + 5, u16(p + 3) < len - 5 ? u16(p + 3) : len - 5);
        break;
    case 10: /* supported_groups */
        h->has_groups = true;
        put_codes(h, h->groups, &h->n_groups, DTP_HELLO_MAX_LIST, group_names, COUNT(group_names), p, len);
        break;
    case 11: /* ec_point_formats: a 1-byte length, then the formats */
        h->has_point_formats = true;
        for (size_t i = 1; len >= 1 && i <= p[0] && i < len; i++) {
            if (h->n_point_formats < sizeof h->point_formats)
                h->point_formats[h->n_point_formats++] = p[i];
            else
                h->dropped++;
        }
        break;
    case 13: /* signature_algorithms */
        h->has_sigalgs = true;
        put_codes(h, h->sigalgs, &h->n_sigalgs, DTP_HELLO_MAX_LIST, sigalg_names, COUNT(sigalg_names), p, len);
        break;
    case 16: /* ALPN: a 2-byte length, then 1-byte-length protocol ids */
        l = len >= 2 ? u16(p) + 2 : 0;
        for (size_t i = 2; i < l && i < len; i += 1 + (size_t)p[i]) {
            size_t n = p[i] < len - i - 1 ? p[i] : len - i - 1;
            if (h->n_alpn < DTP_HELLO_MAX_ALPN)
                copy_text(h->alpn[h->n_alpn++], sizeof h->alpn[0], p + i + 1, n);
            else
                h->dropped++;
        }
        break;
    case 22:
        h->encrypt_then_mac = true;
        break;
    case 23:
        h->ems = true;
        break;
    case 35:
        h->session_ticket = true;
        break;
    case 41:
        h->psk = true;
        break;
    case 42:
        h->early_data = true;
        break;
    case 43: /* supported_versions: a 1-byte length, then versions */
        h->has_supported_versions = true;
        for (size_t i = 1; len >= 1 && i + 1 <= p[0] && i + 1 < len; i += 2) {
            unsigned int v = u16(p + i);
            if (grease(v))
                continue;
            if (h->n_versions < COUNT(h->versions))
                h->versions[h->n_versions++] = (int)v;
            else
                h->dropped++;
        }
        break;
    case 51: /* key_share: a 2-byte length, then (group, 2-byte length, key) */
        h->has_key_shares = true;
        l = len >= 2 ? u16(p) + 2 : 0;
        for (size_t i = 2; i + 4 <= l && i + 4 <= len; i += 4 + u16(p + i + 2))
            put(h, h->key_shares, &h->n_key_shares, DTP_HELLO_MAX_LIST, group_names, COUNT(group_names), u16(p + i));
        break;
    case 0xff01:
        h->renegotiation_info = true;
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------ */
/* Grading                                                              */

struct grader {
    const struct dtp_client_hello *h;
    const struct dtp_profile *p;
    const struct dtp_profile_reqs *q;
    const struct dtp_client_reqs *cq;
    struct dtp__sink sink;
};

#define add(c, ...) dtp__add(&(c)->sink, __VA_ARGS__)

/* What one hello shows of a version: offered, not offered, or not
 * visible (below the legacy_version of a hello without
 * supported_versions, which names only the client's best). */
enum { NO = 0, YES = 1, UNSEEN = 2 };

static int offers_version(const struct dtp_client_hello *h, int v)
{
    if (h->has_supported_versions) {
        for (size_t i = 0; i < h->n_versions; i++)
            if (h->versions[i] == v)
                return YES;
        return NO;
    }
    if (v == h->legacy_version || (v == DTP_TLS1_2 && h->legacy_version > DTP_TLS1_2))
        return YES;
    return v < h->legacy_version ? UNSEEN : NO;
}

/* Whether the client can end up in TLS 1.2 or older (the rules of those
 * versions' extensions apply). */
static bool offers_pre13(const struct dtp_client_hello *h)
{
    return offers_version(h, DTP_TLS1_2) == YES || offers_version(h, DTP_TLS1_1) == YES ||
           offers_version(h, DTP_TLS1_0) == YES || offers_version(h, DTP_SSL3_0) == YES;
}

static bool offers_suite(const struct dtp_client_hello *h, const char *name)
{
    for (size_t i = 0; i < h->n_suites; i++)
        if (h->suites[i].name && strcmp(h->suites[i].name, name) == 0)
            return true;
    return false;
}

static bool offers_group(const struct dtp_client_hello *h, const char *name)
{
    for (size_t i = 0; i < h->n_groups; i++)
        if (h->groups[i].name && strcmp(h->groups[i].name, name) == 0)
            return true;
    return false;
}

/* Names for the evidence, as many as fit, then how many did not. */
struct names {
    char s[200];
    int n, more;
};

static void names_add(struct names *l, const char *name)
{
    size_t len = strlen(l->s), add_len = strlen(name) + (len ? 2 : 0);
    l->n++;
    if (len + add_len + 12 < sizeof l->s)
        dtp__fmt(l->s + len, sizeof l->s - len, "%s%s", len ? ", " : "", name);
    else
        l->more++;
}

static const char *names_text(struct names *l)
{
    size_t len = strlen(l->s);
    if (l->more)
        dtp__fmt(l->s + len, sizeof l->s - len, " +%d more", l->more);
    l->more = 0;
    return l->s;
}

/* A code's name, or "0xC0,0x2F" when the tables do not know it. */
static const char *code_name(const struct dtp_hello_code *x, char *buf, size_t len)
{
    if (x->name)
        return x->name;
    dtp__fmt(buf, len, "0x%02X,0x%02X", x->code >> 8, x->code & 0xff);
    return buf;
}

static const char *versions_text(const struct dtp_client_hello *h, char *buf, size_t len)
{
    if (!h->has_supported_versions) {
        dtp__fmt(buf, len, "legacy_version %s, no supported_versions", dtp__version_name(h->legacy_version));
        return buf;
    }
    dtp__fmt(buf, len, "supported_versions");
    for (size_t i = 0; i < h->n_versions; i++)
        dtp__append_word(buf, len, dtp__version_name(h->versions[i]));
    return buf;
}

/* A version the profile keeps out (offered fails, unseen informs). */
static void version_absent(struct grader *c, const struct dtp_req *r, int offered, const char *what, const char *vt)
{
    if (!r->id)
        return;
    if (offered == UNSEEN)
        add(c, r->id, DTP_LEVEL_INFO, true, "%s not visible (%s): one hello does not show the lowest version a client "
            "accepts", what, vt);
    else
        add(c, r->id, r->level, offered == NO, "%s %s (%s)%s", what, offered == YES ? "offered" : "not offered", vt,
            offered == YES && r->level == DTP_LEVEL_INFO ? ", allowed" : "");
}

/* 1: versions (C2, B1, N1, N2, E1, E2, E4, K1, K2, R3, R5, R7, R8, R9, M33, M34, M37). */
static void rule_versions(struct grader *c)
{
    const struct dtp_client_hello *h = c->h;
    char vt[160];
    versions_text(h, vt, sizeof vt);
    int t10 = offers_version(h, DTP_TLS1_0), t11 = offers_version(h, DTP_TLS1_1);
    int old = t10 == YES || t11 == YES ? YES : t10 == UNSEEN || t11 == UNSEEN ? UNSEEN : NO;
    version_absent(c, &c->q->ssl3, offers_version(h, DTP_SSL3_0), "SSLv3", vt);
    version_absent(c, &c->q->old_versions, old, "TLSv1.0/TLSv1.1", vt);
    version_absent(c, &c->q->tls13_refused, offers_version(h, DTP_TLS1_3), "TLSv1.3", vt);
    const struct dtp_req *r = &c->cq->tls12;
    if (r->id)
        add(c, r->id, r->level, offers_version(h, DTP_TLS1_2) == YES, "TLSv1.2 %s (%s)",
            offers_version(h, DTP_TLS1_2) == YES ? "offered" : "not offered", vt);
    r = &c->cq->tls13;
    if (r->id)
        add(c, r->id, r->level, offers_version(h, DTP_TLS1_3) == YES, "TLSv1.3 %s (%s)",
            offers_version(h, DTP_TLS1_3) == YES ? "offered"
                                                 : "not offered: right only for a client that has no TLS 1.3",
            vt);
    r = &c->cq->fallback;
    if (r->id)
        add(c, r->id, r->level, !h->fallback_scsv, "%s (%s)",
            h->fallback_scsv ? "TLS_FALLBACK_SCSV sent: a retry below the client's best version"
                             : "no TLS_FALLBACK_SCSV: not a fallback retry",
            vt);
}

/* A list of suites (or groups) the client offers each of, or one of. */
static void offered_list(struct grader *c, const struct dtp_req_suites *rs, int version_offered, const char *version,
                         bool (*offers)(const struct dtp_client_hello *, const char *))
{
    const struct dtp_req *r = &rs->req;
    if (!r->id || !rs->suites)
        return;
    if (version_offered != YES) {
        add(c, r->id, DTP_LEVEL_INFO, true, "not checked: %s not offered", version);
        return;
    }
    struct names have = {"", 0, 0}, miss = {"", 0, 0};
    for (size_t s = 0; rs->suites[s]; s++)
        names_add(offers(c->h, rs->suites[s]) ? &have : &miss, rs->suites[s]);
    int total = have.n + miss.n;
    if (rs->any ? have.n > 0 : miss.n == 0)
        add(c, r->id, r->level, true, "%d of %d offered: %s", have.n, total, names_text(&have));
    else if (rs->any)
        add(c, r->id, r->level, false, "none of the %d offered: %s", total, names_text(&miss));
    else
        add(c, r->id, r->level, false, "%d of %d not offered: %s", miss.n, total, names_text(&miss));
}

/* 2: the suites a client of the profile offers (B1, N2, E2, E3, K2, K3,
 * R21, R23, R28, M19, M24). */
static void rule_suite_lists(struct grader *c)
{
    int t12 = offers_version(c->h, DTP_TLS1_2), t13 = offers_version(c->h, DTP_TLS1_3);
    offered_list(c, &c->cq->required_tls12, t12, "TLSv1.2", offers_suite);
    offered_list(c, &c->cq->required_tls13, t13, "TLSv1.3", offers_suite);
    offered_list(c, &c->q->recommended, t12, "TLSv1.2", offers_suite);

    const struct dtp_req *r = &c->cq->first_suite;
    const char *want = c->p->tls12_client_order ? c->p->tls12_client_order[0] : NULL;
    if (!r->id || !want)
        return;
    if (t12 != YES) {
        add(c, r->id, DTP_LEVEL_INFO, true, "not checked: TLSv1.2 not offered");
        return;
    }
    const struct dtp_hello_code *first = NULL;
    for (size_t i = 0; i < c->h->n_suites && !first; i++)
        if (!c->h->suites[i].name || !dtp__suite_is_tls13(c->h->suites[i].name))
            first = &c->h->suites[i];
    char buf[16];
    add(c, r->id, r->level, first && first->name && strcmp(first->name, want) == 0,
        "first TLS 1.2 suite offered: %s (%s first)", first ? code_name(first, buf, sizeof buf) : "none", want);
}

/* 3: suites offered that the profile keeps out, one finding per class
 * (C3, B2, B4, N3, E4, K5, R1, R13-R17, R20, R22, M5, M7-M9, M12, M13,
 * M25, M26). */
static void rule_offered_suites(struct grader *c)
{
    struct bucket {
        int place, level;
        char ids[16];
        struct names names;
    } b[24]; /* one per class and level: more than the classes make */
    size_t nb = 0;
    /* Without TLS 1.3 in the row, its suites are the version rule's (E4). */
    bool no13 = !c->p->tls13_suites && c->q->tls13_refused.id;
    for (size_t i = 0; i < c->h->n_suites; i++) {
        const struct dtp_hello_code *x = &c->h->suites[i];
        char ids[16] = "", hex[16];
        int level = c->q->other.level, place = DTP__OTHER_SUITE;
        if (!x->name)
            dtp__fmt(ids, sizeof ids, "%s", c->q->other.id ? c->q->other.id : "");
        else if (no13 && dtp__suite_is_tls13(x->name))
            continue;
        else
            place = dtp__suite_place(c->p, x->name, ids, sizeof ids, &level);
        if (place == DTP__IN_ROW || !ids[0])
            continue;
        size_t k = 0;
        while (k < nb && !(b[k].place == place && b[k].level == level && strcmp(b[k].ids, ids) == 0))
            k++;
        if (k == nb && nb == COUNT(b))
            k = nb - 1; /* never reached with today's classes: the last takes the rest */
        else if (k == nb) {
            b[nb++] = (struct bucket){place, level, "", {"", 0, 0}};
            dtp__fmt(b[k].ids, sizeof b[k].ids, "%s", ids);
        }
        names_add(&b[k].names, code_name(x, hex, sizeof hex));
    }
    int weak_bad = 0, other_bad = 0;
    for (size_t k = 0; k < nb; k++) {
        struct bucket *x = &b[k];
        if (x->place == DTP__WEAK_SUITE) {
            weak_bad++;
            add(c, x->ids, x->level, false, "%d weak suite(s) offered: %s", x->names.n, names_text(&x->names));
        } else if (x->place == DTP__ALLOWED_SUITE) {
            add(c, x->ids, x->level, true, "%d suite(s) offered that the profile allows but does not list: %s",
                x->names.n, names_text(&x->names));
        } else {
            other_bad += x->level > DTP_LEVEL_INFO;
            add(c, x->ids, x->level, false, "%d suite(s) offered outside the profile's lists%s: %s", x->names.n,
                x->level == DTP_LEVEL_INFO ? " (of similar strength)" : "", names_text(&x->names));
        }
    }
    dtp__suite_classes_ok(&c->sink, c->q, weak_bad, other_bad, "offered");
}

/* 4: groups (B5, E5, R26, R29, R30, M15, M17): none below the row's
 * minimums (X25519 counts 255 bits), R26's offered, only uncompressed
 * points. */
static void rule_groups(struct grader *c)
{
    const struct dtp_client_hello *h = c->h;
    struct {
        const struct dtp_req *r;
        bool ff;
        int min, seen;
        struct names small;
    } k[] = {{&c->q->ec_size, false, c->p->min_ecdhe_bits, 0, {"", 0, 0}},
             {&c->q->dh_size, true, c->p->min_dhe_bits, 0, {"", 0, 0}}};
    /* supported_groups, and key shares outside it */
    for (size_t i = 0; i < h->n_groups + h->n_key_shares; i++) {
        const struct dtp_hello_code *x = i < h->n_groups ? &h->groups[i] : &h->key_shares[i - h->n_groups];
        if (!x->name || x->bits <= 0 || (i >= h->n_groups && offers_group(h, x->name)))
            continue;
        size_t j = dtp__group_is_ff(x->name) ? 1 : 0;
        k[j].seen++;
        if (x->bits < k[j].min) {
            char buf[48];
            dtp__fmt(buf, sizeof buf, "%s (%d bits)", x->name, x->bits);
            names_add(&k[j].small, buf);
        }
    }
    for (size_t j = 0; j < COUNT(k); j++) {
        if (!k[j].r->id)
            continue;
        if (k[j].small.n)
            add(c, k[j].r->id, k[j].r->level, false, "%s group(s) offered below %d bits: %s", k[j].ff ? "DH" : "EC",
                k[j].min, names_text(&k[j].small));
        else if (k[j].seen)
            add(c, k[j].r->id, k[j].r->level, true, "%d %s group(s) offered, none below %d bits", k[j].seen,
                k[j].ff ? "DH" : "EC", k[j].min);
        else if (!k[j].ff && !h->has_groups)
            add(c, k[j].r->id, DTP_LEVEL_INFO, true, "no supported_groups: a server picks the curve");
    }
    offered_list(c, &c->cq->groups, YES, "", offers_group);

    const struct dtp_req *r = &c->cq->point_formats;
    if (!r->id)
        return;
    bool only_uncompressed = true;
    char list[64] = "";
    for (size_t i = 0; i < h->n_point_formats; i++) {
        only_uncompressed &= h->point_formats[i] == 0;
        char one[8];
        dtp__fmt(one, sizeof one, "%u", h->point_formats[i]);
        dtp__append_word(list, sizeof list, one);
    }
    if (!h->has_point_formats)
        add(c, r->id, r->level, true, "no ec_point_formats (uncompressed implied)");
    else
        add(c, r->id, r->level, only_uncompressed, "ec_point_formats %s%s", list,
            only_uncompressed ? ": uncompressed only" : ": compressed formats listed (0 is uncompressed)");
}

/* 5: compression, renegotiation_info, EMS, signature schemes, 0-RTT,
 * ALPN, SNI (C4, C5, B2, R32-R36, R38, R39, R41, M10, M12, M14). */
static void rule_extensions(struct grader *c)
{
    const struct dtp_client_hello *h = c->h;
    const struct dtp_profile_reqs *q = c->q;
    bool pre13 = offers_pre13(h), t12 = offers_version(h, DTP_TLS1_2) == YES;
    char list[64] = "";
    for (size_t i = 0; i < h->n_compression; i++) {
        char one[8];
        dtp__fmt(one, sizeof one, "%u", h->compression[i]);
        dtp__append_word(list, sizeof list, one);
    }
    bool compressed = strspn(list, "0 ") != strlen(list);
    if (q->compression.id)
        add(c, q->compression.id, q->compression.level, !compressed, "compression methods %s%s", list,
            compressed ? ": compression offered (0 is null, 1 DEFLATE)" : ": null only");

    if (q->renegotiation.id && !pre13)
        add(c, q->renegotiation.id, DTP_LEVEL_INFO, true, "not checked: TLSv1.3 only");
    else if (q->renegotiation.id)
        add(c, q->renegotiation.id, q->renegotiation.level, h->renegotiation_info || h->renegotiation_scsv, "%s",
            h->renegotiation_info   ? "renegotiation_info sent"
            : h->renegotiation_scsv ? "TLS_EMPTY_RENEGOTIATION_INFO_SCSV sent"
                                    : "neither renegotiation_info nor TLS_EMPTY_RENEGOTIATION_INFO_SCSV sent");
    if (q->ems.id && !t12)
        add(c, q->ems.id, DTP_LEVEL_INFO, true, "not checked: TLSv1.2 not offered");
    else if (q->ems.id)
        add(c, q->ems.id, q->ems.level, h->ems, "extended_master_secret %s", h->ems ? "offered" : "not offered");

    struct names weak = {"", 0, 0}, outside = {"", 0, 0};
    bool sha256 = false;
    for (size_t i = 0; i < h->n_sigalgs; i++) {
        const struct dtp_hello_code *x = &h->sigalgs[i];
        char hex[16];
        sha256 |= x->bits == 256;
        if (x->bits > 0 && x->bits <= 160)
            names_add(&weak, x->name);
        else if (c->p->sigalgs && !dtp__in_list(c->p->sigalgs, x->name))
            names_add(&outside, code_name(x, hex, sizeof hex));
    }
    const struct dtp_req *r = &c->cq->sigalgs_sha256;
    if (r->id && !t12)
        add(c, r->id, DTP_LEVEL_INFO, true, "not checked: TLSv1.2 not offered");
    else if (r->id)
        add(c, r->id, r->level, h->has_sigalgs && sha256, "%s",
            !h->has_sigalgs ? "no signature_algorithms: a TLS 1.2 server assumes SHA-1 (RFC 5246 7.4.1.4.1)"
            : sha256        ? "signature_algorithms asks for SHA-256"
                            : "signature_algorithms without a SHA-256 scheme");
    r = &c->cq->sigalgs_weak;
    if (r->id)
        add(c, r->id, r->level, weak.n == 0, "%d SHA-1/MD5 signature scheme(s) offered%s%s", weak.n, weak.n ? ": " : "",
            names_text(&weak));

    r = &c->cq->sigalgs_outside;
    if (r->id && c->p->sigalgs)
        add(c, r->id, r->level, outside.n == 0, "%d signature scheme(s) offered outside the profile's list%s%s",
            outside.n, outside.n ? ": " : "", names_text(&outside));
    r = &c->cq->early_data;
    if (r->id)
        add(c, r->id, r->level, !h->early_data, "early_data (0-RTT) %s", h->early_data ? "offered" : "not offered");

    r = &q->alpn;
    if (r->id && c->p->alpn) {
        char offered[200] = "";
        bool found = false;
        for (size_t i = 0; i < h->n_alpn; i++) {
            found |= strcmp(h->alpn[i], c->p->alpn) == 0;
            dtp__append_word(offered, sizeof offered, h->alpn[i]);
        }
        add(c, r->id, r->level, found, "%s%s%s", h->n_alpn ? "ALPN offered: " : "no ALPN offered",
            offered, found || !h->n_alpn ? "" : " (without the profile's id)");
    }

    r = &c->cq->sni;
    if (r->id) {
        unsigned char addr[16];
        bool ip = inet_pton(AF_INET, h->sni, addr) == 1 || inet_pton(AF_INET6, h->sni, addr) == 1;
        if (!h->sni[0])
            add(c, r->id, DTP_LEVEL_INFO, true, "no SNI: right when the client addressed this node by IP address (Q9)");
        else
            add(c, r->id, r->level, !ip, "SNI '%s' sent%s", h->sni, ip ? ": an IP address literal (RFC 6066 3)" : "");
    }
}

void dtp_grade_client(const struct dtp_client_hello *hello, bool handshake_completed, const struct dtp_profile *profile,
                      struct dtp_grade *out)
{
    if (!out)
        return;
    struct grader c = {hello, profile, profile ? &profile->reqs : NULL, profile ? &profile->reqs.client : NULL,
                       {NULL, 0}};
    dtp__sink_begin(&c.sink, out, profile);
    if (!profile)
        return; /* conforms stays false */
    if (!hello) {
        out->unreachable = true;
        add(&c, "", DTP_LEVEL_SHALL, false, "no ClientHello was received");
    } else {
        if (!handshake_completed)
            add(&c, "", DTP_LEVEL_INFO, true, "the handshake did not complete: graded on the ClientHello alone");
        if (hello->dropped)
            add(&c, "", DTP_LEVEL_INFO, true, "%zu list entries beyond the recorder's limits were not kept",
                hello->dropped);
        static void (*const rules[])(struct grader *) = {rule_versions, rule_suite_lists, rule_offered_suites,
                                                         rule_groups, rule_extensions};
        for (size_t i = 0; i < COUNT(rules); i++)
            rules[i](&c);
    }
    dtp__sink_end(&c.sink);
}
