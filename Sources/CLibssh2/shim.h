#ifndef CLOUDMIN_CLIBSSH2_SHIM_H
#define CLOUDMIN_CLIBSSH2_SHIM_H
/* libssh2's function-like macros do not import into Swift; wrap the ones we need here. */
#include <libssh2.h>
#include <libssh2_sftp.h>

static inline LIBSSH2_SESSION *cm_libssh2_session_init(void *abstract) {
    return libssh2_session_init_ex(NULL, NULL, NULL, abstract);
}
#endif
