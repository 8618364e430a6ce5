#ifndef CLOUDMIN_CLIBSSH2_SHIM_H
#define CLOUDMIN_CLIBSSH2_SHIM_H
/* libssh2's function-like macros do not import into Swift; wrap the ones we need here. */
#include <libssh2.h>
#include <libssh2_sftp.h>

static inline LIBSSH2_SESSION *cm_libssh2_session_init(void *abstract) {
    return libssh2_session_init_ex(NULL, NULL, NULL, abstract);
}

/* libssh2_channel_open_session(), with the library's default window and packet sizes. */
static inline LIBSSH2_CHANNEL *cm_libssh2_channel_open_session(LIBSSH2_SESSION *session,
                                                               unsigned int window) {
    return libssh2_channel_open_ex(session, "session", sizeof("session") - 1, window,
                                   LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
}

/* libssh2_channel_exec(). */
static inline int cm_libssh2_channel_exec(LIBSSH2_CHANNEL *channel, const char *command,
                                          unsigned int length) {
    return libssh2_channel_process_startup(channel, "exec", sizeof("exec") - 1, command, length);
}

/* libssh2_session_disconnect(). */
static inline int cm_libssh2_session_disconnect(LIBSSH2_SESSION *session, const char *reason) {
    return libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, reason, "");
}

#endif
