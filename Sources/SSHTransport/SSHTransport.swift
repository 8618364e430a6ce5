/// SSHTransport: libssh2 sessions, host-key pinning, key auth, SFTP and exec channels.
public enum SSHTransportModule {}
