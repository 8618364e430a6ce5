/// The replica's side of the replication protocol: what `cloudmin-mirror replica serve` runs
/// for the master's forced-command SSH connection.
public enum ReplicaServer {
    /// Serves the replica protocol on `stream` until the master says goodbye or closes it.
    /// - Parameters:
    ///   - context: this replica's configuration and paths.
    ///   - stream: the connection (stdin/stdout under sshd).
    ///   - clientFingerprint: the fingerprint of the key the master logged in with, as written
    ///     in the forced command by `replica init`.
    /// - Throws: `ProtocolError` when the stream breaks; refusals are sent to the master as
    ///   error replies, not thrown.
    public static func serve(context: MirrorContext, stream: ByteStream, clientFingerprint: String) throws {
        // Filled in by the protocol work that lands next; until then the master gets a refusal.
        let frames = FrameStream(stream, peer: "master")
        var w = WireWriter()
        w.string("unavailable")
        w.string("this replica's protocol server is not built yet")
        try frames.send(Frame(type: 0xFF, payload: w.bytes))
        try frames.flush()
    }
}
