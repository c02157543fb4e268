/* A software "security key" for tests: an OpenSSH SecurityKeyProvider
 * middleware (the sk-api of OpenSSH 9.2, API version 0x000a0000) that keeps
 * its private key in the key handle and signs with OpenSSL, so ssh-keygen
 * -w and ssh -o SecurityKeyProvider= work without hardware.
 *
 * The flags byte of every signature is SK_DUMMY_FLAGS from the environment
 * (strtoul base 0, e.g. 0x05), default 0x01 (user presence): the server sees
 * exactly the presence and verification bits a test asks for.
 *
 * What an authenticator signs (FIDO2, as OpenSSH verifies it):
 *   SHA256(application) || flags || counter (big-endian u32) || SHA256(data)
 * ed25519 signs those 69 bytes; ECDSA P-256 signs their SHA-256.
 *
 * Built as build/tests/helpers/libsk_dummy.so. Not a security device: the
 * private key sits in the key handle, in the clear. */
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The ABI of OpenSSH's sk-api.h at version 0x000a0000 (names as there, so
 * ssh's dlsym finds the functions; the structs are laid out the same). */
#define SSH_SK_ECDSA 0x00
#define SSH_SK_ED25519 0x01
#define SSH_SK_ERR_GENERAL -1
#define SSH_SK_ERR_UNSUPPORTED -2
#define SK_API_VERSION 0x000a0000U

struct sk_enroll_response {
    uint8_t flags;
    uint8_t *public_key;
    size_t public_key_len;
    uint8_t *key_handle;
    size_t key_handle_len;
    uint8_t *signature;
    size_t signature_len;
    uint8_t *attestation_cert;
    size_t attestation_cert_len;
    uint8_t *authdata;
    size_t authdata_len;
};

struct sk_sign_response {
    uint8_t flags;
    uint32_t counter;
    uint8_t *sig_r;
    size_t sig_r_len;
    uint8_t *sig_s;
    size_t sig_s_len;
};

struct sk_resident_key;
struct sk_option;

uint32_t sk_api_version(void);
int sk_enroll(uint32_t alg, const uint8_t *challenge, size_t challenge_len,
              const char *application, uint8_t flags, const char *pin,
              struct sk_option **options, struct sk_enroll_response **enroll_response);
int sk_sign(uint32_t alg, const uint8_t *data, size_t data_len, const char *application,
            const uint8_t *key_handle, size_t key_handle_len, uint8_t flags, const char *pin,
            struct sk_option **options, struct sk_sign_response **sign_response);
int sk_load_resident_keys(const char *pin, struct sk_option **options,
                          struct sk_resident_key ***rks, size_t *nrks);

uint32_t sk_api_version(void)
{
    return SK_API_VERSION;
}

static uint8_t *dup_bytes(const void *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

/* The public key as OpenSSH wants it: 32 raw bytes (ed25519) or the
 * uncompressed point (P-256). */
static int public_key(EVP_PKEY *pkey, uint32_t alg, uint8_t **out, size_t *len)
{
    uint8_t buf[128];
    size_t n = sizeof buf;
    int ok = alg == SSH_SK_ED25519
                 ? EVP_PKEY_get_raw_public_key(pkey, buf, &n)
                 : EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf,
                                                   sizeof buf, &n);
    if (ok != 1 || (*out = dup_bytes(buf, n)) == NULL)
        return -1;
    *len = n;
    return 0;
}

int sk_enroll(uint32_t alg, const uint8_t *challenge, size_t challenge_len,
              const char *application, uint8_t flags, const char *pin,
              struct sk_option **options, struct sk_enroll_response **enroll_response)
{
    (void)challenge, (void)challenge_len, (void)application, (void)pin, (void)options;
    if (enroll_response == NULL)
        return SSH_SK_ERR_GENERAL;
    *enroll_response = NULL;
    if (alg != SSH_SK_ED25519 && alg != SSH_SK_ECDSA)
        return SSH_SK_ERR_UNSUPPORTED;
    EVP_PKEY *pkey = alg == SSH_SK_ED25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
                                           : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    struct sk_enroll_response *r = calloc(1, sizeof *r);
    unsigned char *der = NULL;
    int der_len = pkey ? i2d_PrivateKey(pkey, &der) : -1;
    int rc = SSH_SK_ERR_GENERAL;
    if (r == NULL || der_len <= 0 || public_key(pkey, alg, &r->public_key, &r->public_key_len) < 0)
        goto out;
    r->flags = flags;
    r->key_handle = dup_bytes(der, (size_t)der_len);
    r->key_handle_len = (size_t)der_len;
    /* No attestation: placeholders where a device puts its certificate. */
    r->signature = dup_bytes("sig", 3);
    r->signature_len = 3;
    r->attestation_cert = dup_bytes("cert", 4);
    r->attestation_cert_len = 4;
    r->authdata = dup_bytes("authdata", 8);
    r->authdata_len = 8;
    if (!r->key_handle || !r->signature || !r->attestation_cert || !r->authdata)
        goto out;
    *enroll_response = r;
    r = NULL;
    rc = 0;
out:
    if (r) {
        free(r->public_key);
        free(r->key_handle);
        free(r->signature);
        free(r->attestation_cert);
        free(r->authdata);
        free(r);
    }
    OPENSSL_clear_free(der, der_len > 0 ? (size_t)der_len : 0);
    EVP_PKEY_free(pkey);
    return rc;
}

static int sha256(const void *p, size_t n, unsigned char out[32])
{
    return EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

/* ECDSA's DER signature split into the r and s integers OpenSSH wants. */
static int ecdsa_split(const unsigned char *der, size_t len, struct sk_sign_response *r)
{
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &der, (long)len);
    int rc = -1;
    if (es) {
        const BIGNUM *br, *bs;
        ECDSA_SIG_get0(es, &br, &bs);
        r->sig_r_len = (size_t)BN_num_bytes(br);
        r->sig_s_len = (size_t)BN_num_bytes(bs);
        r->sig_r = malloc(r->sig_r_len + 1);
        r->sig_s = malloc(r->sig_s_len + 1);
        if (r->sig_r && r->sig_s) {
            BN_bn2bin(br, r->sig_r);
            BN_bn2bin(bs, r->sig_s);
            rc = 0;
        }
        ECDSA_SIG_free(es);
    }
    return rc;
}

int sk_sign(uint32_t alg, const uint8_t *data, size_t data_len, const char *application,
            const uint8_t *key_handle, size_t key_handle_len, uint8_t flags, const char *pin,
            struct sk_option **options, struct sk_sign_response **sign_response)
{
    (void)flags, (void)pin, (void)options;
    if (sign_response == NULL || application == NULL || key_handle == NULL)
        return SSH_SK_ERR_GENERAL;
    *sign_response = NULL;
    if (alg != SSH_SK_ED25519 && alg != SSH_SK_ECDSA)
        return SSH_SK_ERR_UNSUPPORTED;
    const char *env = getenv("SK_DUMMY_FLAGS");
    uint8_t sig_flags = env && *env ? (uint8_t)strtoul(env, NULL, 0) : 0x01;
    static uint32_t counter = 0x1000;
    counter++;

    unsigned char msg[32 + 1 + 4 + 32];
    if (sha256(application, strlen(application), msg) < 0 ||
        sha256(data, data_len, msg + 37) < 0)
        return SSH_SK_ERR_GENERAL;
    msg[32] = sig_flags;
    msg[33] = (unsigned char)(counter >> 24);
    msg[34] = (unsigned char)(counter >> 16);
    msg[35] = (unsigned char)(counter >> 8);
    msg[36] = (unsigned char)counter;

    const unsigned char *p = key_handle;
    EVP_PKEY *pkey = d2i_AutoPrivateKey(NULL, &p, (long)key_handle_len);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    struct sk_sign_response *r = calloc(1, sizeof *r);
    unsigned char sig[256];
    size_t sig_len = sizeof sig;
    int rc = SSH_SK_ERR_GENERAL;
    if (!pkey || !md || !r ||
        EVP_DigestSignInit(md, NULL, alg == SSH_SK_ED25519 ? NULL : EVP_sha256(), NULL, pkey) != 1 ||
        EVP_DigestSign(md, sig, &sig_len, msg, sizeof msg) != 1)
        goto out;
    r->flags = sig_flags;
    r->counter = counter;
    if (alg == SSH_SK_ED25519) {
        r->sig_r = dup_bytes(sig, sig_len);
        r->sig_r_len = sig_len;
        if (!r->sig_r)
            goto out;
    } else if (ecdsa_split(sig, sig_len, r) < 0) {
        goto out;
    }
    *sign_response = r;
    r = NULL;
    rc = 0;
out:
    if (r) {
        free(r->sig_r);
        free(r->sig_s);
        free(r);
    }
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    return rc;
}

int sk_load_resident_keys(const char *pin, struct sk_option **options,
                          struct sk_resident_key ***rks, size_t *nrks)
{
    (void)pin, (void)options;
    if (rks)
        *rks = NULL;
    if (nrks)
        *nrks = 0;
    return SSH_SK_ERR_UNSUPPORTED;
}
